/**
 * The same measurement for our cluster and for etcd: commit latency with one
 * proposal at a time, and throughput at saturation, taken as the best median
 * over a few concurrency levels (each system saturates at its own level).
 */
import type { LoadOptions, LoadResult } from "./load.ts";
import { type Spread, spreadOf } from "./rounds.ts";
import { loadOptions, type Settings } from "./settings.ts";

export interface LoadTarget<R extends LoadResult> {
  load(options: LoadOptions, run: number): Promise<R>;
}

export interface LatencyFigures {
  readonly p50: Spread;
  readonly p99: Spread;
}

export interface SaturationFigures<R extends LoadResult> {
  readonly concurrency: number;
  readonly rates: Spread;
  /** Every round at the chosen level, for derived figures. */
  readonly results: readonly R[];
  /** CPU this process used meanwhile, % of a core (the load generator's share, for etcd). */
  readonly clientCpuPercent: Spread;
}

export async function measureLatency<R extends LoadResult>(
  target: LoadTarget<R>,
  settings: Settings,
  firstRun: number,
): Promise<LatencyFigures> {
  const p50: number[] = [];
  const p99: number[] = [];
  for (let round = 0; round < settings.loopbackRounds; round++) {
    const result = await target.load(loadOptions(1, settings.loopbackRoundMs), firstRun + round);
    p50.push(result.latencyP50Ms);
    p99.push(result.latencyP99Ms);
  }
  return { p50: spreadOf(p50), p99: spreadOf(p99) };
}

export async function measureSaturation<R extends LoadResult>(
  target: LoadTarget<R>,
  settings: Settings,
  firstRun: number,
): Promise<SaturationFigures<R>> {
  let best: SaturationFigures<R> | null = null;
  let run = firstRun;
  // One discarded round first: the first second of heavy load warms up the
  // JIT and the page cache and was consistently the slowest.
  const highest = Math.max(...settings.saturationLevels);
  if (settings.loopbackRounds > 1) {
    await target.load(loadOptions(highest, settings.loopbackRoundMs), run++);
  }
  for (const concurrency of settings.saturationLevels) {
    const results: R[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < settings.loopbackRounds; round++) {
      const before = process.cpuUsage();
      const result = await target.load(loadOptions(concurrency, settings.loopbackRoundMs), run++);
      const used = process.cpuUsage(before);
      results.push(result);
      cpu.push(((used.user + used.system) / 1000 / result.elapsedMs) * 100);
    }
    const rates = spreadOf(results.map((result) => result.entriesPerSecond));
    if (best === null || rates.median > best.rates.median) {
      best = { concurrency, rates, results, clientCpuPercent: spreadOf(cpu) };
    }
  }
  if (best === null) throw new Error("no saturation level to try");
  return best;
}
