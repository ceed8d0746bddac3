/**
 * Raft benchmarks (issue #3): the core's throughput and commit latency with
 * every node in this process; the same over loopback TCP between three node
 * processes with fdatasync'd logs; leader failover time; the CPU of 10,000
 * idle groups with and without quiescence; and etcd, run side by side as the
 * anchor. bench/raft/ holds the parts; packages/raft/README.md ("Benchmarks")
 * explains the figures.
 *
 * Every figure is a median over rounds, with the spread in its note: the
 * machines these run on are shared and noisy.
 */
import type { Benchmark, BenchmarkOptions, Figure } from "./harness.ts";
import { measureIdleGroups } from "./raft/idle-groups.ts";
import { InProcessGroup } from "./raft/in-process.ts";
import { etcd, failover, latencyWithoutEarlyMessages, loopback } from "./raft/loopback-sections.ts";
import { spreadOf } from "./raft/rounds.ts";
import {
  figure,
  fullSettings,
  loadOptions,
  type Settings,
  smokeSettings,
  TICK_MS,
  targets,
} from "./raft/settings.ts";

/** Proposals in flight for the in-process throughput figures. */
const IN_PROCESS_CONCURRENCY = 256;

function inProcess(settings: Settings): Figure[] {
  const figures: Figure[] = [];
  for (const size of [3, 5]) {
    const group = new InProcessGroup(size);
    group.elect();
    let run = 0;
    const rates: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < settings.inProcessRounds; round++) {
      const before = process.cpuUsage();
      const options = loadOptions(IN_PROCESS_CONCURRENCY, settings.inProcessRoundMs);
      const result = group.run(options, run++);
      const used = process.cpuUsage(before);
      rates.push(result.entriesPerSecond);
      cpu.push((used.user + used.system) / Math.max(result.committed, 1));
    }
    const p50: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < settings.inProcessRounds; round++) {
      const result = group.run(loadOptions(1, settings.inProcessRoundMs), run++);
      p50.push(result.latencyP50Ms);
      p99.push(result.latencyP99Ms);
    }
    const label = `in-process, ${size} nodes`;
    figures.push(
      figure(
        `${label}: committed entries/s (${IN_PROCESS_CONCURRENCY} in flight)`,
        spreadOf(rates),
        "entries/s",
        "the core's CPU alone, one thread",
      ),
      figure(`${label}: CPU per committed entry (all nodes)`, spreadOf(cpu), "µs"),
      figure(`${label}: p50 commit latency (1 in flight)`, spreadOf(p50), "ms"),
      figure(`${label}: p99 commit latency (1 in flight)`, spreadOf(p99), "ms"),
    );
  }
  return figures;
}

async function idle(settings: Settings): Promise<Figure[]> {
  const figures: Figure[] = [];
  const groups = `${settings.idleGroups.toLocaleString("en-US")} idle 3-node groups in one process`;
  for (const quiesce of [true, false]) {
    const result = await measureIdleGroups({
      groups: settings.idleGroups,
      quiesce,
      tickMs: TICK_MS,
      settleMs: settings.idleSettleMs,
      windowMs: settings.idleWindowMs,
      rounds: settings.idleRounds,
    });
    const awake = `all 3 replicas of each group; ${result.awakeNodes} nodes awake`;
    figures.push(
      figure(
        `${groups}, ${quiesce ? "quiesced" : "not quiesced"}: CPU`,
        spreadOf(result.cpuPercent),
        "% of a core",
        quiesce ? `${targets.idle}; ${awake}` : awake,
      ),
    );
    if (quiesce && result.heapBytesPerGroup !== null) {
      figures.push({
        name: `${groups}: heap per group (3 replicas)`,
        value: result.heapBytesPerGroup / 1024,
        unit: "KiB",
      });
    }
  }
  return figures;
}

export const raftBenchmark: Benchmark = {
  name: "raft",
  description:
    "Raft: in-process and loopback (3 processes, fdatasync) commits/s and latency, failover, idle groups' CPU, etcd beside",
  async run(options: BenchmarkOptions): Promise<readonly Figure[]> {
    const settings = options.smoke ? smokeSettings : fullSettings;
    const figures = inProcess(settings);
    const ours = await loopback(settings, true);
    figures.push(...ours.figures);
    if (!options.smoke) {
      figures.push(...(await latencyWithoutEarlyMessages(settings)));
      figures.push(...(await loopback(settings, false)).figures);
    }
    figures.push(...(await failover(settings)));
    figures.push(...(await idle(settings)));
    figures.push(...(await etcd(settings, ours.throughput, options.smoke)));
    return figures;
  },
};
