// Refusal periods for peers that misbehaved (docs/protocol.md §12.10.7). An
// authenticated server that sent garbage is refused by name for a period that
// doubles with each offence; an address whose unauthenticated connections
// keep failing is refused after a number of failures, so a stranger cannot
// get a real server throttled by claiming its name. Bounded: the oldest
// entries are forgotten first.

export interface ThrottleBounds {
  readonly throttleMinMs: number;
  readonly throttleMaxMs: number;
  readonly addressFailuresBeforeThrottle: number;
  readonly throttleEntriesMax: number;
}

interface Penalty {
  offences: number;
  untilMs: number;
}

export class Throttle {
  readonly #bounds: ThrottleBounds;
  readonly #penalties = new Map<string, Penalty>();

  constructor(bounds: ThrottleBounds) {
    this.#bounds = bounds;
  }

  /** Milliseconds `key` is still refused for, or 0. */
  refusedForMs(key: string, nowMs: number): number {
    const penalty = this.#penalties.get(key);
    return penalty === undefined ? 0 : Math.max(0, penalty.untilMs - nowMs);
  }

  /** An authenticated peer misbehaved: refuse it at once, longer each time. */
  penalize(key: string, nowMs: number): number {
    const penalty = this.#entry(key);
    penalty.offences += 1;
    const periodMs = Math.min(
      this.#bounds.throttleMaxMs,
      this.#bounds.throttleMinMs * 2 ** Math.min(penalty.offences - 1, 30),
    );
    penalty.untilMs = nowMs + periodMs;
    return periodMs;
  }

  /** An unauthenticated connection failed; the address is refused once it failed often enough. */
  countFailure(key: string, nowMs: number): void {
    const penalty = this.#entry(key);
    penalty.offences += 1;
    const beyond = penalty.offences - this.#bounds.addressFailuresBeforeThrottle;
    if (beyond >= 0) {
      penalty.untilMs =
        nowMs +
        Math.min(
          this.#bounds.throttleMaxMs,
          this.#bounds.throttleMinMs * 2 ** Math.min(beyond, 30),
        );
    }
  }

  #entry(key: string): Penalty {
    let penalty = this.#penalties.get(key);
    if (penalty === undefined) {
      penalty = { offences: 0, untilMs: 0 };
    } else {
      this.#penalties.delete(key);
    }
    this.#penalties.set(key, penalty);
    while (this.#penalties.size > this.#bounds.throttleEntriesMax) {
      const oldest = this.#penalties.keys().next();
      if (oldest.done === true) break;
      this.#penalties.delete(oldest.value);
    }
    return penalty;
  }
}
