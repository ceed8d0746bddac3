import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.ts";

const policy = fc.record({
  baseDelayMs: fc.integer({ min: 1, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 600_000 }),
});
const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("reconnect back-off", () => {
  it("stays within [step/2, step] and never above the cap, for any attempt", () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 10_000 }),
        random,
        (backoff, attempt, jitter) => {
          const step = Math.min(
            backoff.maxDelayMs,
            backoff.baseDelayMs * 2 ** Math.min(attempt - 1, 30),
          );
          const delay = backoffDelayMs(backoff, attempt, jitter);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(delay).toBeLessThanOrEqual(backoff.maxDelayMs);
        },
      ),
    );
  });

  it("grows with the attempt for the same jitter until it reaches the cap", () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 60 }), random, (backoff, attempt, jitter) => {
        expect(backoffDelayMs(backoff, attempt + 1, jitter)).toBeGreaterThanOrEqual(
          backoffDelayMs(backoff, attempt, jitter),
        );
      }),
    );
  });

  it("spreads clients cut off together: different jitter, different delays", () => {
    const backoff = { baseDelayMs: 500, maxDelayMs: 30_000 };
    expect(backoffDelayMs(backoff, 1, 0)).toBe(250);
    expect(backoffDelayMs(backoff, 1, 0.999)).toBe(499);
    expect(backoffDelayMs(backoff, 20, 0)).toBe(15_000);
  });
});
