/**
 * Many seeds on worker threads: each thread runs whole seeds, so a run is
 * the same as on one thread (a seed and the commit still determine it).
 * Seeds go out in small chunks to whichever thread is free, so one slow
 * seed does not leave the other threads idle at the end.
 */
import { Worker } from "node:worker_threads";
import type { BatchResult, SeedRange } from "./batch.ts";
import type { SimulationResult } from "./run.ts";

/** Seeds handed to a thread at a time: small enough to balance, large enough to amortise a message. */
const seedsPerChunk = 16;

const workerUrl = new URL("./simulation-worker.mjs", import.meta.url);

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
  const workers = Array.from(
    { length: Math.min(threads, Math.ceil(range.count / seedsPerChunk)) },
    () => new Worker(workerUrl),
  );
  try {
    await Promise.all(
      workers.map(async (worker) => {
        while (nextSeed < end) {
          const chunk: SeedRange = {
            ...range,
            firstSeed: nextSeed,
            count: Math.min(seedsPerChunk, end - nextSeed),
          };
          nextSeed += chunk.count;
          const batch = await request(worker, chunk);
          events += batch.events;
          virtualMs += batch.virtualMs;
          for (const failure of batch.failures) {
            failures.push(failure);
            onFailure(failure);
          }
        }
      }),
    );
  } finally {
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

function request(worker: Worker, range: SeedRange): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const cleanUp = (): void => {
      worker.off("message", onMessage);
      worker.off("error", onError);
    };
    const onMessage = (batch: BatchResult): void => {
      cleanUp();
      resolve(batch);
    };
    const onError = (error: Error): void => {
      cleanUp();
      reject(error);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.postMessage(range);
  });
}
