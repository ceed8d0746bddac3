import type { RegisterCall, RegisterOperation, RegisterResult } from "./register-model.ts";
import type { SearchOperation } from "./search.ts";

/** A search operation that remembers which history operation it came from. */
export interface PreparedOperation extends SearchOperation<RegisterCall, RegisterResult> {
  readonly source: RegisterOperation;
}

/**
 * Prepares one key's operations for the search, taming unknown outcomes the
 * way etcd's robustness tests do (tests/robustness/model: history.go,
 * non_deterministic.go). Each rule leaves the verdict unchanged:
 *
 * 1. An unknown outcome returns at +Infinity: it may take effect at any point
 *    after its call, or never (which equals "last").
 * 2. A get with an unknown outcome is dropped: it changed nothing and
 *    nobody saw its answer.
 * 3. A write (put or compare-and-set) with an unknown outcome whose value
 *    nothing observed is dropped. "Observed" means a get returned the value
 *    or a successful compare-and-set expected it. Removing such a write from
 *    a valid order only changes what the operations between it and the next
 *    write see; none of them read its value, so it can only matter to a
 *    compare-and-set that failed, or whose outcome is unknown, and could come
 *    after it. On keys with such a compare-and-set the write is kept.
 *    Conversely, a valid order without it stays valid with it placed last.
 * 4. An observed unknown write whose value no other write on the key wrote
 *    must take effect before its first observer returns, so its return time
 *    is capped there.
 *
 * Without rules 3 and 4 each unknown write stays a candidate at every step of
 * the search; a history with twenty of them can take minutes.
 */
export function prepareRegisterOperations(
  operations: readonly RegisterOperation[],
): PreparedOperation[] {
  const writers = new Map<string, number>();
  for (const operation of operations) {
    if (operation.call.kind !== "get") {
      writers.set(operation.call.value, (writers.get(operation.call.value) ?? 0) + 1);
    }
  }
  const firstObservedMs = firstObservationTimes(operations);
  const prepared: PreparedOperation[] = [];
  for (const operation of operations) {
    const { call, outcome } = operation;
    if (outcome.status === "ok") {
      prepared.push({
        source: operation,
        call,
        result: outcome.result,
        callMs: operation.callMs,
        returnMs: outcome.returnMs,
      });
      continue;
    }
    if (call.kind === "get") {
      continue;
    }
    const observedMs = firstObservedMs.get(call.value);
    if (observedMs === undefined && !mayExplainCompareAndSet(operation, operations)) {
      continue;
    }
    const capped = observedMs !== undefined && writers.get(call.value) === 1;
    prepared.push({
      source: operation,
      call,
      result: undefined,
      callMs: operation.callMs,
      returnMs: capped ? Math.max(operation.callMs, observedMs) : Number.POSITIVE_INFINITY,
    });
  }
  return prepared;
}

/** For each value, the earliest return of a completed operation that saw it. */
function firstObservationTimes(operations: readonly RegisterOperation[]): Map<string, number> {
  const firstObservedMs = new Map<string, number>();
  const observe = (value: string | null, returnMs: number): void => {
    if (value !== null) {
      firstObservedMs.set(value, Math.min(returnMs, firstObservedMs.get(value) ?? returnMs));
    }
  };
  for (const { call, outcome } of operations) {
    if (outcome.status !== "ok") {
      continue;
    }
    if (outcome.result.kind === "get") {
      observe(outcome.result.value, outcome.returnMs);
    } else if (
      call.kind === "compare-and-set" &&
      outcome.result.kind === "compare-and-set" &&
      outcome.result.succeeded
    ) {
      observe(call.expected, outcome.returnMs);
    }
  }
  return firstObservedMs;
}

/**
 * Whether some other compare-and-set on the key failed, or has an unknown
 * outcome, and could be ordered after `write`: its behaviour may depend on
 * the write even though nobody read the value.
 */
function mayExplainCompareAndSet(
  write: RegisterOperation,
  operations: readonly RegisterOperation[],
): boolean {
  return operations.some(
    (other) =>
      other !== write &&
      other.call.kind === "compare-and-set" &&
      (other.outcome.status === "unknown" ||
        (other.outcome.result.kind === "compare-and-set" &&
          !other.outcome.result.succeeded &&
          other.outcome.returnMs >= write.callMs)),
  );
}
