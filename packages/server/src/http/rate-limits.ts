// Token buckets keyed by device or remote address. Each key refills at
// `perSecond` up to a burst of `burst` tokens; a request takes one token or is
// refused with `rate_limited` and the time until a token is back. The table of
// keys is bounded: when full, the least recently used key is dropped (it then
// starts again with a full bucket, erring towards serving rather than memory).

import { rateLimited } from "@parley/protocol";
import { rateLimitKeysMax } from "../limits.ts";

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export interface RateLimitRule {
  readonly perSecond: number;
  readonly burst: number;
}

export class RateLimiter {
  readonly #rule: RateLimitRule;
  readonly #keysMax: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rule: RateLimitRule, keysMax = rateLimitKeysMax) {
    if (!(rule.perSecond > 0) || !(rule.burst >= 1)) {
      throw new Error("a rate limit needs a positive rate and a burst of at least one");
    }
    this.#rule = rule;
    this.#keysMax = keysMax;
  }

  /** Takes one token for `key`, or throws `rate_limited` with the wait until one is back. */
  take(key: string, nowMs: number): void {
    const bucket = this.#bucketOf(key, nowMs);
    const refilled = Math.min(
      this.#rule.burst,
      bucket.tokens + ((nowMs - bucket.updatedAtMs) * this.#rule.perSecond) / 1000,
    );
    bucket.updatedAtMs = nowMs;
    if (refilled >= 1) {
      bucket.tokens = refilled - 1;
      return;
    }
    bucket.tokens = refilled;
    const retryAfterMs = Math.ceil(((1 - refilled) * 1000) / this.#rule.perSecond);
    throw rateLimited(retryAfterMs, "too many requests; retry later");
  }

  get size(): number {
    return this.#buckets.size;
  }

  #bucketOf(key: string, nowMs: number): Bucket {
    const existing = this.#buckets.get(key);
    if (existing !== undefined) {
      // Re-insert so iteration order is least recently used first.
      this.#buckets.delete(key);
      this.#buckets.set(key, existing);
      return existing;
    }
    if (this.#buckets.size >= this.#keysMax) {
      const stalest = this.#buckets.keys().next();
      if (stalest.done !== true) this.#buckets.delete(stalest.value);
    }
    const bucket = { tokens: this.#rule.burst, updatedAtMs: nowMs };
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
