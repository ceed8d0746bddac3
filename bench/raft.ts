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
import { EtcdCluster, findEtcd } from "./raft/etcd.ts";
import { measureIdleGroups } from "./raft/idle-groups.ts";
import { InProcessGroup } from "./raft/in-process.ts";
import type { LoadOptions } from "./raft/load.ts";
import { ProcessCluster } from "./raft/process-cluster.ts";
import { describeSpread, type Spread, spreadOf } from "./raft/rounds.ts";

/** What differs between a full run and a smoke run. */
interface Settings {
  readonly inProcessRounds: number;
  readonly inProcessRoundMs: number;
  readonly loopbackRounds: number;
  readonly loopbackRoundMs: number;
  readonly failoverTrials: number;
  /** Milliseconds per tick for the failover trials with the default timeouts. */
  readonly failoverTickMs: number;
  readonly idleGroups: number;
  readonly idleRounds: number;
  readonly idleWindowMs: number;
  readonly idleSettleMs: number;
}

const full: Settings = {
  inProcessRounds: 5,
  inProcessRoundMs: 1_000,
  loopbackRounds: 5,
  loopbackRoundMs: 3_000,
  failoverTrials: 7,
  failoverTickMs: 100,
  idleGroups: 10_000,
  idleRounds: 5,
  idleWindowMs: 2_000,
  idleSettleMs: 2_000,
};

// A few hundred milliseconds per part; a short tick so a failover is quick.
const smoke: Settings = {
  inProcessRounds: 1,
  inProcessRoundMs: 150,
  loopbackRounds: 1,
  loopbackRoundMs: 200,
  failoverTrials: 1,
  failoverTickMs: 10,
  idleGroups: 30,
  idleRounds: 1,
  idleWindowMs: 150,
  idleSettleMs: 150,
};

/** Proposals in flight for the throughput figures ("with batching"), and payload size. */
const SATURATION_CONCURRENCY = 1024;
const IN_PROCESS_CONCURRENCY = 256;
const PAYLOAD_BYTES = 128;
/** Parley's tick and election timeout (README: about 100 ms; 10 ticks). */
const TICK_MS = 100;
const ELECTION_TIMEOUT_TICKS = 10;
const HEARTBEAT_INTERVAL_TICKS = 1;

const targets = {
  throughput: "target 20,000/s on loopback and over 3× etcd",
  latency: "target p50 < 1 ms",
  failover: "target < 1 s",
  idle: "target < 5% of a core",
};

function load(concurrency: number, durationMs: number): LoadOptions {
  return { concurrency, count: 5_000_000, durationMs, payloadBytes: PAYLOAD_BYTES };
}

function figure(name: string, spread: Spread, unit: string, note = ""): Figure {
  const text = [describeSpread(spread), note].filter((part) => part !== "").join("; ");
  return { name, value: spread.median, unit, note: text };
}

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
      const result = group.run(load(IN_PROCESS_CONCURRENCY, settings.inProcessRoundMs), run++);
      const used = process.cpuUsage(before);
      rates.push(result.entriesPerSecond);
      cpu.push((used.user + used.system) / Math.max(result.committed, 1));
    }
    const p50: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < settings.inProcessRounds; round++) {
      const result = group.run(load(1, settings.inProcessRoundMs), run++);
      p50.push(result.latencyP50Ms);
      p99.push(result.latencyP99Ms);
    }
    const label = `in-process, ${size} nodes`;
    figures.push(
      figure(
        `${label}: committed entries/s (${IN_PROCESS_CONCURRENCY} in flight)`,
        spreadOf(rates),
        "entries/s",
        "CPU of the core alone, one thread",
      ),
      figure(`${label}: CPU per committed entry (all nodes)`, spreadOf(cpu), "µs"),
      figure(`${label}: p50 commit latency (1 in flight)`, spreadOf(p50), "ms"),
      figure(`${label}: p99 commit latency (1 in flight)`, spreadOf(p99), "ms"),
    );
  }
  return figures;
}

interface LoopbackFigures {
  readonly figures: Figure[];
  readonly throughput: number;
}

async function loopback(settings: Settings): Promise<LoopbackFigures> {
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: TICK_MS,
    electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
    heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
  });
  try {
    await cluster.elect();
    let run = 0;
    const p50: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < settings.loopbackRounds; round++) {
      const result = await cluster.load(load(1, settings.loopbackRoundMs), run++);
      p50.push(result.latencyP50Ms);
      p99.push(result.latencyP99Ms);
    }
    const rates: number[] = [];
    const perSync: number[] = [];
    const syncMs: number[] = [];
    for (let round = 0; round < settings.loopbackRounds; round++) {
      const result = await cluster.load(
        load(SATURATION_CONCURRENCY, settings.loopbackRoundMs),
        run++,
      );
      rates.push(result.entriesPerSecond);
      perSync.push(result.committed / Math.max(result.syncs, 1));
      syncMs.push(result.syncMs / Math.max(result.syncs, 1));
    }
    const throughput = spreadOf(rates);
    const label = "loopback TCP, 3 processes, fdatasync";
    return {
      throughput: throughput.median,
      figures: [
        figure(
          `${label}: committed entries/s (${SATURATION_CONCURRENCY} in flight)`,
          throughput,
          "entries/s",
          targets.throughput,
        ),
        figure(`${label}: entries per leader fdatasync`, spreadOf(perSync), "entries"),
        figure(`${label}: leader fdatasync, mean`, spreadOf(syncMs), "ms"),
        figure(`${label}: p50 commit latency (1 in flight)`, spreadOf(p50), "ms", targets.latency),
        figure(`${label}: p99 commit latency (1 in flight)`, spreadOf(p99), "ms"),
      ],
    };
  } finally {
    await cluster.close();
  }
}

/** One cluster per trial: elect, commit a little, SIGKILL the leader, time the next commit. */
async function failover(settings: Settings, tickMs: number): Promise<Spread> {
  const times: number[] = [];
  for (let trial = 0; trial < settings.failoverTrials; trial++) {
    const cluster = await ProcessCluster.start({
      size: 3,
      tickMs,
      electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
      heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
    });
    try {
      await cluster.elect();
      await cluster.load({ ...load(16, 2_000), count: 200 }, 0);
      times.push(await cluster.failover(40 * ELECTION_TIMEOUT_TICKS * tickMs));
    } finally {
      await cluster.close();
    }
  }
  return spreadOf(times);
}

async function idle(settings: Settings): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const quiesce of [true, false]) {
    const result = await measureIdleGroups({
      groups: settings.idleGroups,
      quiesce,
      tickMs: TICK_MS,
      settleMs: settings.idleSettleMs,
      windowMs: settings.idleWindowMs,
      rounds: settings.idleRounds,
    });
    const label = `${settings.idleGroups.toLocaleString("en-US")} idle 3-node groups in one process`;
    figures.push(
      figure(
        `${label}, ${quiesce ? "quiesced" : "not quiesced"}: CPU`,
        spreadOf(result.cpuPercent),
        "% of a core",
        `${quiesce ? `${targets.idle}; ` : ""}all 3 replicas of each group; ${result.awakeNodes} nodes awake`,
      ),
    );
    if (quiesce) {
      figures.push({
        name: `${label}: heap per group (3 replicas)`,
        value: result.heapBytesPerGroup / 1024,
        unit: "KiB",
      });
    }
  }
  return figures;
}

async function etcd(settings: Settings, ours: number, smokeRun: boolean): Promise<Figure[]> {
  const skipped = (reason: string): Figure[] => {
    process.stdout.write(`raft benchmark: etcd comparison skipped: ${reason}\n`);
    return [{ name: "etcd anchor", value: 0, unit: "not run", note: reason }];
  };
  if (smokeRun) return skipped("smoke mode does not start etcd");
  const found = findEtcd();
  if ("missing" in found) return skipped(found.missing);
  const cluster = await EtcdCluster.start(3);
  try {
    const p50: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < settings.loopbackRounds; round++) {
      const result = await cluster.load(load(1, settings.loopbackRoundMs));
      p50.push(result.latencyP50Ms);
      p99.push(result.latencyP99Ms);
    }
    const rates: number[] = [];
    const clientCpu: number[] = [];
    for (let round = 0; round < settings.loopbackRounds; round++) {
      const before = process.cpuUsage();
      const result = await cluster.load(load(SATURATION_CONCURRENCY, settings.loopbackRoundMs));
      const used = process.cpuUsage(before);
      rates.push(result.entriesPerSecond);
      clientCpu.push(((used.user + used.system) / 1000 / result.elapsedMs) * 100);
    }
    const throughput = spreadOf(rates);
    const label = `etcd ${found.version.replace(/^etcd Version: /, "")}, 3 members on loopback`;
    return [
      figure(
        `${label}: puts/s (${SATURATION_CONCURRENCY} in flight)`,
        throughput,
        "writes/s",
        `HTTP/JSON gateway; the Node client used ${spreadOf(clientCpu).median.toFixed(0)}% of a core`,
      ),
      figure(`${label}: p50 put latency (1 in flight)`, spreadOf(p50), "ms", "seen by the client"),
      figure(`${label}: p99 put latency (1 in flight)`, spreadOf(p99), "ms"),
      {
        name: "loopback throughput, ours ÷ etcd's",
        value: ours / throughput.median,
        unit: "×",
        note: "target over 3×",
      },
    ];
  } finally {
    await cluster.close();
  }
}

export const raftBenchmark: Benchmark = {
  name: "raft",
  description:
    "Raft: in-process and loopback (3 processes, fdatasync) commits/s and latency, failover, idle groups' CPU, etcd beside",
  async run(options: BenchmarkOptions): Promise<readonly Figure[]> {
    const settings = options.smoke ? smoke : full;
    const figures = inProcess(settings);
    const loop = await loopback(settings);
    figures.push(...loop.figures);
    figures.push(
      figure(
        `failover: SIGKILL the leader → a new leader commits (${settings.failoverTickMs} ms tick, election timeout ${ELECTION_TIMEOUT_TICKS} ticks)`,
        await failover(settings, settings.failoverTickMs),
        "ms",
        targets.failover,
      ),
    );
    if (!options.smoke) {
      figures.push(
        figure(
          `failover, for comparison: 50 ms tick (election timeout ${ELECTION_TIMEOUT_TICKS} ticks)`,
          await failover(settings, 50),
          "ms",
        ),
      );
    }
    figures.push(...(await idle(settings)));
    figures.push(...(await etcd(settings, loop.throughput, options.smoke)));
    return figures;
  },
};
