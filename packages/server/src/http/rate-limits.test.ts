import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limits.ts";

const refusedAfter = (retryAfterMs: number) =>
  expect.objectContaining({ code: "rate_limited", retryAfterMs });

describe("rate limiter", () => {
  it("lets a burst through, then refuses with the time until the next token", () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 3 });
    for (let request = 0; request < 3; request += 1) limiter.take("device", 1000);
    expect(() => limiter.take("device", 1000)).toThrow(refusedAfter(100));
    expect(() => limiter.take("device", 1050)).toThrow(refusedAfter(50));
  });

  it("refills at the configured rate and never above the burst", () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 2 });
    limiter.take("device", 0);
    limiter.take("device", 0);
    limiter.take("device", 100);
    expect(() => limiter.take("device", 100)).toThrow();
    // A long pause refills to the burst only.
    limiter.take("device", 60_000);
    limiter.take("device", 60_000);
    expect(() => limiter.take("device", 60_000)).toThrow();
  });

  it("keeps keys apart", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 });
    limiter.take("a", 0);
    limiter.take("b", 0);
    expect(() => limiter.take("a", 0)).toThrow();
  });

  it("holds a bounded number of keys, dropping the least recently used", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 2);
    limiter.take("a", 0);
    limiter.take("b", 0);
    limiter.take("c", 0); // drops "a"
    expect(limiter.size).toBe(2);
    limiter.take("a", 0); // a fresh bucket again, dropping "b"
    expect(() => limiter.take("c", 0)).toThrow();
  });
});
