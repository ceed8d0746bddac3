/**
 * Seeds run on worker threads are the same runs as on this thread: the same
 * failures (whole, in seed order) and the same event totals.
 */
import { describe, expect, it } from "vitest";
import { runSeeds } from "../src/simulation/batch.ts";
import { runSeedsInWorkers } from "../src/simulation/parallel.ts";

describe("simulator on worker threads", () => {
  it("runs the same seeds as one thread, failures included", async () => {
    // noClientDedup fails some of these seeds, so failures cross the thread boundary.
    const range = { firstSeed: 1, count: 40, durationMs: 1_500, bugs: ["noClientDedup" as const] };
    const local = runSeeds(range);
    const heard: number[] = [];
    const threaded = await runSeedsInWorkers(range, 2, (failure) =>
      heard.push(failure.options.seed),
    );
    expect(local.failures.length).toBeGreaterThan(0);
    expect(threaded.seeds).toBe(local.seeds);
    expect(threaded.events).toBe(local.events);
    expect(threaded.virtualMs).toBe(local.virtualMs);
    expect(
      threaded.failures.map((result) => [result.options.seed, result.fingerprint, result.failure]),
    ).toEqual(
      local.failures.map((result) => [result.options.seed, result.fingerprint, result.failure]),
    );
    expect([...heard].sort((a, b) => a - b)).toEqual(
      local.failures.map((result) => result.options.seed),
    );
  }, 120_000);
});
