// How long to wait before the next reconnection attempt: exponential growth
// from `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (half the
// step fixed, half random) so that many clients cut off by the same server
// restart do not all come back in the same instant, while none retries at once
// in a tight loop.

export interface BackoffPolicy {
  /** The first step's size. */
  readonly baseDelayMs: number;
  /** No delay is longer than this. */
  readonly maxDelayMs: number;
}

export const reconnectBackoffDefault: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The delay before attempt `attempt` (1 for the first retry). `random` is a
 * number in [0, 1), e.g. `Math.random()`. The result is an integer in
 * [step/2, step] where step = min(maxDelayMs, baseDelayMs · 2^(attempt−1)).
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const half = step / 2;
  return Math.floor(half + half * Math.min(Math.max(random, 0), 1));
}
