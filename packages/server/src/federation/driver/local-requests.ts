// Local requests waiting for their outcome from the federation core: each
// gets a request id the core echoes in its `submission-result` event, and
// its caller a promise of the final outcome (never "proposed", which is only
// a step). Ids start at the caller's clock-derived first id and never repeat
// in a process, so a control record replayed after a restart, which names
// its proposal id, never matches a new request.

import type { FederationEvent, LocalSubmissionOutcome } from "@parley/federation";
import { ParleyError } from "@parley/protocol";
import { driverRequestsPendingMax } from "../limits.ts";

/** The final outcome of a local submission: never "proposed", which is only a step. */
export type FinalOutcome = Exclude<LocalSubmissionOutcome, { kind: "proposed" }>;

export class LocalRequests {
  #nextRequestId: number;
  readonly #pending = new Map<number, (outcome: FinalOutcome) => void>();

  constructor(firstRequestId: number) {
    this.#nextRequestId = Math.max(1, firstRequestId);
  }

  get size(): number {
    return this.#pending.size;
  }

  takeRequestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId += 1;
    return id;
  }

  /** A new request id and the promise of its outcome; `unavailable` when too many wait. */
  open(): { requestId: number; outcome: Promise<FinalOutcome> } {
    if (this.#pending.size >= driverRequestsPendingMax) {
      throw new ParleyError("unavailable", "too many requests in flight; retry shortly", {
        retryAfterMs: 100,
      });
    }
    const requestId = this.takeRequestId();
    const outcome = new Promise<FinalOutcome>((resolve) => {
      this.#pending.set(requestId, resolve);
    });
    return { requestId, outcome };
  }

  /** Answers one request as refused (`unavailable`), if it still waits. */
  refuse(requestId: number, reason: string): void {
    const resolve = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    resolve?.({ kind: "refused", code: "unavailable", reason });
  }

  /** Answers every request whose final outcome is among the core's events. */
  settle(events: readonly FederationEvent[]): void {
    for (const event of events) {
      if (event.type !== "submission-result" || event.outcome.kind === "proposed") continue;
      const resolve = this.#pending.get(event.requestId);
      if (resolve === undefined) continue;
      this.#pending.delete(event.requestId);
      resolve(event.outcome);
    }
  }

  /** Answers every waiting request as refused (`unavailable`). */
  refuseAll(reason: string): void {
    for (const resolve of this.#pending.values()) {
      resolve({ kind: "refused", code: "unavailable", reason });
    }
    this.#pending.clear();
  }
}
