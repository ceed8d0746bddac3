import { ensure } from "../misuse.ts";
import type { Clock } from "../time/clock.ts";

/**
 * How an operation ended, as its client saw it. "unknown" is a request that
 * timed out or whose client crashed: it may or may not have taken effect, and
 * if it did, at any moment after its call (its return time is infinity).
 */
export type Outcome<Result> =
  | { readonly status: "ok"; readonly result: Result; readonly returnMs: number }
  | { readonly status: "unknown" };

/** One client request in a history: what was asked, when, and how it ended. */
export interface Operation<Call, Result> {
  /** Unique within the history; counterexamples name operations by it. */
  readonly id: number;
  /** Who issued it, for reading counterexamples; the checkers do not rely on it. */
  readonly client: string;
  readonly call: Call;
  readonly callMs: number;
  readonly outcome: Outcome<Result>;
}

interface OpenOperation<Call, Result> {
  readonly id: number;
  readonly client: string;
  readonly call: Call;
  readonly callMs: number;
  outcome: Outcome<Result> | "failed" | undefined;
}

/**
 * Records a history as a simulation runs: `invoke` when a client sends a
 * request, then `complete` when it gets an answer, or `fail` when the request
 * certainly had no effect (refused before anything was written, e.g. "not the
 * leader" with nothing appended). Anything still open when `operations()` is
 * read counts as unknown: a timeout is simply never completed.
 */
export class HistoryRecorder<Call, Result> {
  private readonly recorded: OpenOperation<Call, Result>[] = [];

  constructor(private readonly clock: Clock) {}

  /** Starts an operation now; returns its id. */
  invoke(client: string, call: Call): number {
    const id = this.recorded.length;
    this.recorded.push({ id, client, call, callMs: this.clock.nowMs(), outcome: undefined });
    return id;
  }

  /** The operation returned `result` now. */
  complete(id: number, result: Result): void {
    const operation = this.open(id);
    operation.outcome = { status: "ok", result, returnMs: this.clock.nowMs() };
  }

  /** The operation certainly took no effect: it is left out of the history. */
  fail(id: number): void {
    this.open(id).outcome = "failed";
  }

  /** The history so far: completed operations, and open ones as unknown. */
  operations(): Operation<Call, Result>[] {
    const history: Operation<Call, Result>[] = [];
    for (const { id, client, call, callMs, outcome } of this.recorded) {
      if (outcome !== "failed") {
        history.push({ id, client, call, callMs, outcome: outcome ?? { status: "unknown" } });
      }
    }
    return history;
  }

  private open(id: number): OpenOperation<Call, Result> {
    const operation = this.recorded[id];
    ensure(operation !== undefined, `no operation ${id} was invoked`);
    ensure(operation.outcome === undefined, `operation ${id} has already ended`);
    return operation;
  }
}

/** Checks the contract every checker relies on: unique ids, finite times, calls before returns. */
export function validateHistory<Call, Result>(
  operations: readonly Operation<Call, Result>[],
): void {
  const ids = new Set<number>();
  for (const operation of operations) {
    ensure(!ids.has(operation.id), `operation id ${operation.id} appears twice`);
    ids.add(operation.id);
    ensure(Number.isFinite(operation.callMs), `operation ${operation.id} has no finite call time`);
    if (operation.outcome.status === "ok") {
      ensure(
        Number.isFinite(operation.outcome.returnMs) &&
          operation.outcome.returnMs >= operation.callMs,
        `operation ${operation.id} returns before it is called`,
      );
    }
  }
}
