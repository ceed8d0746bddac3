import { linearizabilityOperationsPerKeyMax } from "../limits.ts";
import { ensure } from "../misuse.ts";
import { ExploredConfigurations } from "./memo.ts";
import type { SequentialModel } from "./model.ts";

/**
 * An operation as the search sees it: a result, or undefined when the outcome
 * is unknown, and a return time that may be +Infinity.
 */
export interface SearchOperation<Call, Result> {
  readonly call: Call;
  readonly result: Result | undefined;
  readonly callMs: number;
  readonly returnMs: number;
}

/** Indices refer to the operations array given to `searchLinearization`. */
export type SearchVerdict =
  | { readonly kind: "linearizable"; readonly steps: number; readonly order: readonly number[] }
  | {
      readonly kind: "not-linearizable";
      readonly steps: number;
      /** The longest order the search could build before every branch failed. */
      readonly longestPrefix: readonly number[];
      /** An operation that had to take effect before its return and could not, after that prefix. */
      readonly stuckOperation: number | undefined;
    }
  | { readonly kind: "unknown"; readonly steps: number };

/** A node of the doubly linked list of call and return events (the "dancing links" of WGL). */
interface Entry {
  readonly operation: number;
  readonly timeMs: number;
  /** For a call: its return entry. For a return: undefined. */
  match: Entry | undefined;
  previous: Entry | undefined;
  next: Entry | undefined;
}

/**
 * The Wing–Gong linearizability search with Lowe's memoization, as in
 * Porcupine. Walk the events in time order; at a call, try to linearize that
 * operation now (the model must accept it, and the pair (set of linearized
 * operations, state) must be new); at a return whose operation is not yet
 * linearized, undo the last choice and try the next candidate. The history is
 * linearizable iff every event is consumed. Unknown outcomes return at
 * +Infinity, so they may be placed anywhere after their call — including
 * after everything else, which is the same as never having happened.
 *
 * Stops after `stepsMax` moves and answers "unknown" rather than run on.
 */
export function searchLinearization<State, Call, Result>(
  model: SequentialModel<State, Call, Result>,
  operations: readonly SearchOperation<Call, Result>[],
  stepsMax: number,
): SearchVerdict {
  ensure(
    operations.length <= linearizabilityOperationsPerKeyMax,
    `at most ${linearizabilityOperationsPerKeyMax} operations per key, got ${operations.length}`,
  );
  const head = buildEventList(operations);
  const explored = new ExploredConfigurations();
  const calls: Array<{ readonly entry: Entry; readonly state: State; readonly forced: boolean }> =
    [];
  const longestPrefix: number[] = [];
  // How many leading entries of longestPrefix still equal the stack: only the
  // rest is copied at the next snapshot, so snapshots cost O(steps) in total.
  let sharedDepth = 0;
  let stuckOperation: number | undefined;
  let state = model.initialState;
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    steps += 1;
    if (steps > stepsMax) {
      return { kind: "unknown", steps: stepsMax };
    }
    // A call's return is always later in the list, so a walk from the head
    // meets a return entry before running off the end.
    ensure(entry !== undefined, "linearizability search ran off the event list");
    const returnEntry = entry.match;
    if (returnEntry !== undefined) {
      const operation = operations[entry.operation] as SearchOperation<Call, Result>;
      const outcome = model.step(state, operation.call, operation.result);
      // A read-only operation that is legal now can go first in any valid
      // completion (moving it forward breaks no real-time order and changes
      // no state), so it is taken without trying alternatives.
      const forced = outcome.legal && model.isReadOnly(operation.call, operation.result);
      if (outcome.legal) {
        explored.toggle(entry.operation);
        if (explored.addIfNew(model.stateKey(outcome.state))) {
          calls.push({ entry, state, forced });
          state = outcome.state;
          lift(entry, returnEntry);
          entry = head.next;
          continue;
        }
        explored.toggle(entry.operation);
      }
      if (!forced) {
        entry = entry.next;
        continue;
      }
      // The forced successor was already explored and failed, so this configuration fails too.
    }
    // Here the branch is dead: a return whose operation is not linearized yet
    // (that operation is stuck), or a forced step already explored. Remember
    // the deepest prefix for the counterexample.
    if (calls.length > longestPrefix.length) {
      longestPrefix.length = sharedDepth;
      for (const call of calls.slice(sharedDepth)) {
        longestPrefix.push(call.entry.operation);
      }
      sharedDepth = calls.length;
      stuckOperation = returnEntry === undefined ? entry.operation : undefined;
    }
    // Undo choices until one that had alternatives; forced ones had none.
    let top = calls.pop();
    for (; top?.forced === true; top = calls.pop()) {
      state = top.state;
      explored.toggle(top.entry.operation);
      unlift(top.entry);
    }
    sharedDepth = Math.min(sharedDepth, calls.length);
    if (top === undefined) {
      return { kind: "not-linearizable", steps, longestPrefix, stuckOperation };
    }
    state = top.state;
    explored.toggle(top.entry.operation);
    unlift(top.entry);
    entry = top.entry.next;
  }
  return { kind: "linearizable", steps, order: calls.map((call) => call.entry.operation) };
}

/**
 * Call and return events sorted by time; at equal times calls come first, so
 * operations that merely touch count as concurrent. Ties otherwise go by
 * operation index, to keep the search deterministic.
 */
function buildEventList<Call, Result>(operations: readonly SearchOperation<Call, Result>[]): Entry {
  const events: Array<{ entry: Entry; isCall: boolean }> = [];
  const returns: Entry[] = [];
  operations.forEach((operation, index) => {
    ensure(operation.returnMs >= operation.callMs, `operation ${index} returns before its call`);
    const returnEntry: Entry = {
      operation: index,
      timeMs: operation.returnMs,
      match: undefined,
      previous: undefined,
      next: undefined,
    };
    const callEntry: Entry = { ...returnEntry, timeMs: operation.callMs, match: returnEntry };
    returns.push(returnEntry);
    events.push({ entry: callEntry, isCall: true }, { entry: returnEntry, isCall: false });
  });
  events.sort(
    (a, b) =>
      a.entry.timeMs - b.entry.timeMs ||
      Number(b.isCall) - Number(a.isCall) ||
      a.entry.operation - b.entry.operation,
  );
  const head: Entry = {
    operation: -1,
    timeMs: Number.NEGATIVE_INFINITY,
    match: undefined,
    previous: undefined,
    next: undefined,
  };
  let last = head;
  for (const { entry } of events) {
    last.next = entry;
    entry.previous = last;
    last = entry;
  }
  return head;
}

/** Unlinks a call entry and its return entry. */
function lift(call: Entry, returnEntry: Entry): void {
  unlink(call);
  unlink(returnEntry);
}

/** Relinks what `lift` removed, in reverse order: entries remember their old neighbours. */
function unlift(call: Entry): void {
  const returnEntry = call.match;
  ensure(returnEntry !== undefined, "unlift needs a call entry");
  relink(returnEntry);
  relink(call);
}

function unlink(entry: Entry): void {
  if (entry.previous !== undefined) {
    entry.previous.next = entry.next;
  }
  if (entry.next !== undefined) {
    entry.next.previous = entry.previous;
  }
}

function relink(entry: Entry): void {
  if (entry.previous !== undefined) {
    entry.previous.next = entry;
  }
  if (entry.next !== undefined) {
    entry.next.previous = entry;
  }
}
