// Outstanding session challenges, in memory: each is single-use (taken out
// when answered, right or wrong) and expires after a minute. The map is
// bounded; when full, the oldest challenge is dropped. Memory is the right
// home: a challenge lives for seconds, and losing them on restart only makes
// a client ask again. (Several processes sharing one database would need a
// shared store; see the client API chapter of docs/protocol.md.)

import { sessionChallengeLifetimeMs, sessionChallengesMax } from "../limits.ts";

interface Outstanding {
  readonly deviceId: string;
  readonly expiresAtMs: number;
}

export class SessionChallenges {
  /** Insertion order is expiry order, since every challenge lives equally long. */
  readonly #byChallenge = new Map<string, Outstanding>();

  issue(challengeText: string, deviceId: string, nowMs: number): number {
    this.#dropExpired(nowMs);
    if (this.#byChallenge.size >= sessionChallengesMax) {
      const oldest = this.#byChallenge.keys().next();
      if (oldest.done !== true) this.#byChallenge.delete(oldest.value);
    }
    const expiresAtMs = nowMs + sessionChallengeLifetimeMs;
    this.#byChallenge.set(challengeText, { deviceId, expiresAtMs });
    return expiresAtMs;
  }

  /** Takes the challenge out; true only if it was issued for this device and has not expired. */
  take(challengeText: string, deviceId: string, nowMs: number): boolean {
    const outstanding = this.#byChallenge.get(challengeText);
    this.#byChallenge.delete(challengeText);
    return (
      outstanding !== undefined &&
      outstanding.deviceId === deviceId &&
      outstanding.expiresAtMs > nowMs
    );
  }

  get size(): number {
    return this.#byChallenge.size;
  }

  #dropExpired(nowMs: number): void {
    // Bounded by the map size; stops at the first live challenge.
    for (const [challenge, outstanding] of this.#byChallenge) {
      if (outstanding.expiresAtMs > nowMs) return;
      this.#byChallenge.delete(challenge);
    }
  }
}
