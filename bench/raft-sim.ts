/**
 * raft-sim: how fast the deterministic Raft simulator runs seeds (issue #3
 * target: 500 seeds/s for short runs). Short runs are the test's: a 1.5 s
 * fault phase, then the liveness phase and the linearizability check; the
 * long ones are the CLI's default of 10 s. Each round runs the same seed
 * range on this thread, so rounds do identical work and differ only by the
 * machine's noise; the figure is the median round. A failing seed stops the
 * benchmark: the speed of a simulator that finds a bug is not the question.
 * The last figure runs the short seeds on one thread per core (this one and
 * a worker per other core), as `npm run sim` does by default.
 */
import { availableParallelism } from "node:os";
import { describeResult, runSeeds, runSeedsInWorkers } from "@parley/raft/simulation";
import type { Benchmark, BenchmarkOptions, Figure } from "./harness.ts";
import { describeSpread, spreadOf } from "./raft/rounds.ts";

interface RunShape {
  readonly label: string;
  readonly durationMs: number;
  readonly seeds: number;
  readonly rounds: number;
}

const full: readonly RunShape[] = [
  { label: "1.5 s runs", durationMs: 1_500, seeds: 500, rounds: 5 },
  { label: "10 s runs", durationMs: 10_000, seeds: 100, rounds: 3 },
];

const smoke: readonly RunShape[] = [
  { label: "1.5 s runs", durationMs: 1_500, seeds: 5, rounds: 1 },
  { label: "10 s runs", durationMs: 10_000, seeds: 1, rounds: 1 },
];

function measure(shape: RunShape): Figure[] {
  const seedRates: number[] = [];
  const eventRates: number[] = [];
  const cpuRates: number[] = [];
  for (let round = 0; round < shape.rounds; round++) {
    const cpuBefore = process.cpuUsage();
    const batch = runSeeds({
      firstSeed: 1,
      count: shape.seeds,
      durationMs: shape.durationMs,
      bugs: [],
    });
    const failure = batch.failures[0];
    if (failure !== undefined) throw new Error(`a seed failed:\n${describeResult(failure)}`);
    const cpu = process.cpuUsage(cpuBefore);
    seedRates.push((batch.seeds * 1000) / batch.elapsedMs);
    cpuRates.push((batch.seeds * 1e6) / (cpu.user + cpu.system));
    eventRates.push((batch.events * 1000) / batch.elapsedMs);
  }
  const seeds = spreadOf(seedRates);
  const events = spreadOf(eventRates);
  const perCpuSecond = spreadOf(cpuRates);
  const range = `seeds 1–${shape.seeds}`;
  return [
    {
      name: `${shape.label}: seeds/s, one thread`,
      value: seeds.median,
      unit: "seeds/s",
      note: `${range}; ${describeSpread(seeds)}${shape.durationMs === 1_500 ? "; target 500/s" : ""}`,
    },
    {
      // Less sensitive to other processes than the wall clock, which a busy
      // machine stretches; both are single-threaded here.
      name: `${shape.label}: seeds per CPU-second`,
      value: perCpuSecond.median,
      unit: "seeds/s",
      note: describeSpread(perCpuSecond),
    },
    {
      name: `${shape.label}: events/s, one thread`,
      value: events.median,
      unit: "events/s",
      note: describeSpread(events),
    },
  ];
}

async function measureWorkers(shape: RunShape): Promise<Figure[]> {
  const threads = availableParallelism();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let round = 0; round < shape.rounds; round++) {
    const range = { firstSeed: 1, count: shape.seeds, durationMs: shape.durationMs, bugs: [] };
    // process.cpuUsage counts every thread of the process, workers included.
    const cpuBefore = process.cpuUsage();
    const batch = await runSeedsInWorkers(range, threads);
    const cpu = process.cpuUsage(cpuBefore);
    const failure = batch.failures[0];
    if (failure !== undefined) throw new Error(`a seed failed:\n${describeResult(failure)}`);
    rates.push((batch.seeds * 1000) / batch.elapsedMs);
    cpuRates.push((batch.seeds * 1e6) / (cpu.user + cpu.system));
  }
  const spread = spreadOf(rates);
  const perCpuSecond = spreadOf(cpuRates);
  const label = `${shape.label}: seeds/s, ${threads} threads (this one and ${threads - 1} workers)`;
  return [
    {
      // Each round starts its workers afresh, as `npm run sim` does; only the
      // first round builds the workers' bundle (once per process).
      name: label,
      value: spread.median,
      unit: "seeds/s",
      note: `seeds 1–${shape.seeds}; ${describeSpread(spread)}; target 500/s`,
    },
    {
      name: `${shape.label}: seeds per CPU-second, ${threads} threads`,
      value: perCpuSecond.median,
      unit: "seeds/s",
      note: `CPU of all threads, workers' start-up included; ${describeSpread(perCpuSecond)}`,
    },
  ];
}

export const raftSimulatorBenchmark: Benchmark = {
  name: "raft-sim",
  description: "Raft simulator: seeds/s for 1.5 s and 10 s runs (issue #3: 500/s for short runs)",
  async run(options: BenchmarkOptions): Promise<readonly Figure[]> {
    const shapes = options.smoke ? smoke : full;
    const figures = shapes.flatMap(measure);
    const short = shapes[0];
    if (short !== undefined) figures.push(...(await measureWorkers(short)));
    return figures;
  },
};
