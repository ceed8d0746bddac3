/**
 * The raft benchmark's parts that run processes: our three node processes
 * over loopback TCP with fdatasync'd logs, leader failover, and etcd beside
 * them. Each starts its processes and, whatever happens, stops them.
 */
import type { Figure } from "../harness.ts";
import { EtcdCluster, findEtcd } from "./etcd.ts";
import { ProcessCluster } from "./process-cluster.ts";
import { type Spread, spreadOf } from "./rounds.ts";
import { measureLatency, measureSaturation } from "./saturation.ts";
import {
  ELECTION_TIMEOUT_TICKS,
  figure,
  HEARTBEAT_INTERVAL_TICKS,
  loadOptions,
  type Settings,
  TICK_MS,
  targets,
} from "./settings.ts";

export interface LoopbackFigures {
  readonly figures: Figure[];
  /** Median committed entries/s at saturation, for the ratio to etcd. */
  readonly throughput: number;
}

const label = "loopback, 3 processes, fdatasync";

/**
 * Latency at low load and throughput at saturation. `overlapSync` picks the
 * driver: fdatasync on the thread pool while the loop keeps stepping, or
 * blocking the loop; the blocking one is measured for comparison only.
 */
export async function loopback(settings: Settings, overlapSync: boolean): Promise<LoopbackFigures> {
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: TICK_MS,
    electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
    heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
    overlapSync,
    earlyMessages: true,
  });
  try {
    await cluster.elect();
    const latency = await measureLatency(cluster, settings, 0);
    const saturation = await measureSaturation(cluster, settings, settings.loopbackRounds);
    const results = saturation.results;
    const perSync = results.map((result) => result.committed / Math.max(result.syncs, 1));
    const syncMs = results.map((result) => result.syncMs / Math.max(result.syncs, 1));
    const mode = overlapSync ? "" : " [fdatasync blocking the loop, for comparison]";
    const throughputName = `${label}${mode}: committed entries/s (${saturation.concurrency} in flight)`;
    if (!overlapSync) {
      return {
        throughput: saturation.rates.median,
        figures: [
          figure(throughputName, saturation.rates, "entries/s"),
          figure(`${label}${mode}: p50 commit latency (1 in flight)`, latency.p50, "ms"),
        ],
      };
    }
    return {
      throughput: saturation.rates.median,
      figures: [
        figure(throughputName, saturation.rates, "entries/s", targets.throughput),
        figure(`${label}: entries per leader fdatasync`, spreadOf(perSync), "entries"),
        figure(`${label}: leader fdatasync, mean`, spreadOf(syncMs), "ms"),
        figure(`${label}: p50 commit latency (1 in flight)`, latency.p50, "ms", targets.latency),
        figure(`${label}: p99 commit latency (1 in flight)`, latency.p99, "ms"),
      ],
    };
  } finally {
    await cluster.close();
  }
}

/**
 * Latency at low load with every message held until the write is synced,
 * as before Ready.earlyMessages: two fdatasyncs in series per commit
 * instead of overlapping the leader's with the follower's.
 */
export async function latencyWithoutEarlyMessages(settings: Settings): Promise<Figure[]> {
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: TICK_MS,
    electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
    heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
    overlapSync: true,
    earlyMessages: false,
  });
  try {
    await cluster.elect();
    const latency = await measureLatency(cluster, settings, 0);
    return [
      figure(
        `${label} [early messages held until the sync, for comparison]: p50 commit latency (1 in flight)`,
        latency.p50,
        "ms",
      ),
    ];
  } finally {
    await cluster.close();
  }
}

/** One cluster per trial: elect, commit a little, SIGKILL the leader, time the next commit. */
async function failoverTrials(settings: Settings, tickMs: number): Promise<Spread> {
  const times: number[] = [];
  for (let trial = 0; trial < settings.failoverTrials; trial++) {
    const cluster = await ProcessCluster.start({
      size: 3,
      tickMs,
      electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
      heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
      overlapSync: true,
      earlyMessages: true,
    });
    try {
      await cluster.elect();
      await cluster.load({ ...loadOptions(16, 2_000), count: 200 }, 0);
      times.push(await cluster.failover(40 * ELECTION_TIMEOUT_TICKS * tickMs));
    } finally {
      await cluster.close();
    }
  }
  return spreadOf(times);
}

export async function failover(settings: Settings): Promise<Figure[]> {
  const timeouts = (tickMs: number) =>
    `${tickMs} ms tick, election timeout ${ELECTION_TIMEOUT_TICKS}–${2 * ELECTION_TIMEOUT_TICKS} ticks`;
  const figures = [
    figure(
      `failover: SIGKILL the leader → a new leader commits (${timeouts(settings.failoverTickMs)})`,
      await failoverTrials(settings, settings.failoverTickMs),
      "ms",
      targets.failover,
    ),
  ];
  const comparison = settings.failoverComparisonTickMs;
  if (comparison !== null) {
    figures.push(
      figure(
        `failover, for comparison (${timeouts(comparison)})`,
        await failoverTrials(settings, comparison),
        "ms",
      ),
    );
  }
  return figures;
}

export async function etcd(settings: Settings, ours: number, smoke: boolean): Promise<Figure[]> {
  const skipped = (reason: string): Figure[] => {
    process.stdout.write(`raft benchmark: etcd comparison skipped: ${reason}\n`);
    return [{ name: "etcd anchor", value: 0, unit: "not run", note: reason }];
  };
  if (smoke) return skipped("smoke mode does not start etcd");
  const found = findEtcd();
  if ("missing" in found) return skipped(found.missing);
  let cluster: EtcdCluster;
  try {
    cluster = await EtcdCluster.start(3);
  } catch (error) {
    // Our figures stand without the anchor; say why it is missing.
    return skipped(`etcd did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const latency = await measureLatency(cluster, settings, 0);
    const saturation = await measureSaturation(cluster, settings, 0);
    const name = `etcd ${found.version.replace(/^etcd Version: /, "")}, 3 members on loopback`;
    const clientCpu = saturation.clientCpuPercent.median.toFixed(0);
    return [
      figure(
        `${name}: puts/s (${saturation.concurrency} in flight)`,
        saturation.rates,
        "writes/s",
        `gRPC KV/Put; the Node client used ${clientCpu}% of a core`,
      ),
      figure(`${name}: p50 put latency (1 in flight)`, latency.p50, "ms", "seen by the client"),
      figure(`${name}: p99 put latency (1 in flight)`, latency.p99, "ms"),
      {
        name: "loopback throughput at saturation, ours ÷ etcd's",
        value: ours / saturation.rates.median,
        unit: "×",
        note: "target over 3×",
      },
    ];
  } finally {
    await cluster.close();
  }
}
