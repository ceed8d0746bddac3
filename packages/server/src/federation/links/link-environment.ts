// The links' view of time and chance, injected so tests control them: a clock,
// timers, and randomness (nonces must be unpredictable; jitter need not be).

import { randomBytes } from "node:crypto";

export interface LinkClock {
  nowMs(): number;
}

/** Timers as handles the links can cancel; the real ones are unref'd so they never hold a process open. */
export interface LinkTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LinkRandom {
  /** Cryptographically random bytes (handshake nonces). */
  bytes(length: number): Uint8Array;
  /** A number in [0, 1) for jitter. */
  fraction(): number;
}

export const systemClock: LinkClock = { nowMs: () => Date.now() };

export const systemTimers: LinkTimers = {
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, delayMs);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export const systemRandom: LinkRandom = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  fraction: () => Math.random(),
};

/**
 * The delay before reconnect attempt `attempt` (0 = first): doubling from the
 * minimum to the maximum, then "equal jitter" (half fixed, half random) so
 * servers that lost each other at once do not redial in step.
 */
export function reconnectDelayMs(
  attempt: number,
  bounds: { readonly reconnectDelayMinMs: number; readonly reconnectDelayMaxMs: number },
  random: LinkRandom,
): number {
  const exponent = Math.min(attempt, 30);
  const ceiling = Math.min(bounds.reconnectDelayMaxMs, bounds.reconnectDelayMinMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random.fraction());
}
