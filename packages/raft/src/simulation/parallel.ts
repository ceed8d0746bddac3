/**
 * Many seeds on worker threads: each thread runs whole seeds, so a run is
 * the same as on one thread (a seed and the commit still determine it).
 * Seeds go out in small chunks to whichever thread is free, so one slow
 * seed does not leave the other threads idle at the end.
 */
import { Worker } from "node:worker_threads";
import { type BatchResult, runSeeds, type SeedRange } from "./batch.ts";
import type { SimulationResult } from "./run.ts";
import { simulationWorkerScript } from "./worker-bundle.ts";

/** Seeds handed to a thread at a time: small enough to balance, large enough to amortise a message. */
const seedsPerChunk = 16;

/** Chunks a worker holds at once: the next is there when one ends, while this thread is busy. */
const chunksInFlightPerWorker = 2;

/**
 * Runs the range on `threads` threads: this one and `threads - 1` workers.
 * This thread runs chunks too (between chunks it hands workers their next
 * ones), so on two cores one worker's start-up is the only thread start, and
 * no core waits on a coordinator with nothing to do. The workers start once
 * their bundled script is built, while this thread already runs seeds.
 */
export async function runSeedsInWorkers(
  range: SeedRange,
  threads: number,
  onFailure: (result: SimulationResult) => void = () => {},
): Promise<BatchResult> {
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer, got ${threads}`);
  }
  const startedAt = performance.now();
  const end = range.firstSeed + range.count;
  let nextSeed = range.firstSeed;
  const failures: SimulationResult[] = [];
  let events = 0;
  let virtualMs = 0;
  const take = (seedsMax: number = seedsPerChunk): SeedRange | null => {
    if (nextSeed >= end) return null;
    const chunk: SeedRange = {
      ...range,
      firstSeed: nextSeed,
      count: Math.min(seedsMax, end - nextSeed),
    };
    nextSeed += chunk.count;
    return chunk;
  };
  const absorb = (batch: BatchResult): void => {
    events += batch.events;
    virtualMs += batch.virtualMs;
    for (const failure of batch.failures) {
      failures.push(failure);
      onFailure(failure);
    }
  };
  const workerCount = Math.min(threads - 1, Math.ceil(range.count / seedsPerChunk) - 1);
  const workers: SeedWorker[] = [];
  let finished = false;
  let workersStarted = workerCount < 1;
  const feeding =
    workerCount < 1
      ? Promise.resolve()
      : simulationWorkerScript().then(async (script) => {
          // Seeds may all be taken (or this run over) by the time the bundle is built.
          for (let index = 0; index < workerCount && !finished && nextSeed < end; index++) {
            workers.push(new SeedWorker(script));
          }
          workersStarted = true;
          await Promise.all(workers.map((worker) => worker.drain(take, absorb)));
        });
  // Observed here so a failed build is not an unhandled rejection while this
  // thread runs seeds; awaited below, where it throws.
  feeding.catch(() => {});
  try {
    // This thread's share: a chunk at a time, yielding between them so the
    // workers' answers are read and their next chunks sent. Until the
    // workers start it runs one seed at a time: the bundle's arrival from
    // esbuild is only seen when this thread yields, and a first chunk run
    // cold (~0.4 s) would hold the workers back that long.
    const chunkSeeds = (): number => (workersStarted ? seedsPerChunk : 1);
    for (let chunk = take(chunkSeeds()); chunk !== null; chunk = take(chunkSeeds())) {
      absorb(runSeeds(chunk));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await feeding;
  } finally {
    finished = true;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  failures.sort((a, b) => a.options.seed - b.options.seed);
  return {
    seeds: range.count,
    failures,
    events,
    virtualMs,
    elapsedMs: performance.now() - startedAt,
  };
}

/** A worker thread fed chunks until none are left, a few in flight, answered in order. */
class SeedWorker {
  readonly #worker: Worker;
  readonly #waiting: Array<{
    resolve: (batch: BatchResult) => void;
    reject: (error: Error) => void;
  }> = [];

  constructor(script: string) {
    this.#worker = new Worker(script, { eval: true });
    this.#worker.on("message", (batch: BatchResult) => this.#waiting.shift()?.resolve(batch));
    this.#worker.on("error", (error: Error) => {
      for (const waiting of this.#waiting.splice(0)) waiting.reject(error);
    });
  }

  /** Sends chunks from `take` (a few ahead) and hands each answer to `absorb` until `take` has none. */
  async drain(take: () => SeedRange | null, absorb: (batch: BatchResult) => void): Promise<void> {
    const inFlight: Array<Promise<BatchResult>> = [];
    const send = (): boolean => {
      const chunk = take();
      if (chunk === null) return false;
      inFlight.push(this.#request(chunk));
      return true;
    };
    for (let index = 0; index < chunksInFlightPerWorker && send(); index += 1) {}
    for (let answer = inFlight.shift(); answer !== undefined; answer = inFlight.shift()) {
      absorb(await answer);
      send();
    }
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  #request(range: SeedRange): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(range);
    });
  }
}
