import { bruteForceOperationsMax } from "../limits.ts";
import { ensure } from "../misuse.ts";
import type { Operation } from "./history.ts";
import type { SequentialModel } from "./model.ts";

/**
 * The definition of linearizability, checked by exhaustion: a reference for
 * the tests of the real checkers (as etcd's quorum/quick_test.go checks the
 * fast quorum code against a naive one). Deliberately simple and slow; it
 * shares nothing with the search but the model.
 *
 * A history is linearizable iff, for some subset of the operations with an
 * unknown outcome (those that took effect) and some order of them together
 * with every completed operation:
 * - whenever A returned before B was called, A comes before B;
 * - the model, stepping through the order from its initial state, accepts
 *   every completed operation's result (and any result of the others).
 */
export function isLinearizableByBruteForce<State, Call, Result>(
  model: SequentialModel<State, Call, Result>,
  operations: readonly Operation<Call, Result>[],
): boolean {
  ensure(
    operations.length <= bruteForceOperationsMax,
    `brute force takes at most ${bruteForceOperationsMax} operations`,
  );
  const completed = operations.filter((operation) => operation.outcome.status === "ok");
  const unknown = operations.filter((operation) => operation.outcome.status === "unknown");
  for (let subset = 0; subset < 2 ** unknown.length; subset += 1) {
    const chosen = [...completed, ...unknown.filter((_, index) => (subset >> index) & 1)];
    if (somePermutation(chosen, (order) => respectsRealTime(order) && modelAccepts(model, order))) {
      return true;
    }
  }
  return false;
}

function returnMs<Call, Result>(operation: Operation<Call, Result>): number {
  return operation.outcome.status === "ok" ? operation.outcome.returnMs : Number.POSITIVE_INFINITY;
}

function respectsRealTime<Call, Result>(order: readonly Operation<Call, Result>[]): boolean {
  for (let later = 0; later < order.length; later += 1) {
    for (let earlier = 0; earlier < later; earlier += 1) {
      const laterOperation = order[later] as Operation<Call, Result>;
      const earlierOperation = order[earlier] as Operation<Call, Result>;
      if (returnMs(laterOperation) < earlierOperation.callMs) {
        return false;
      }
    }
  }
  return true;
}

function modelAccepts<State, Call, Result>(
  model: SequentialModel<State, Call, Result>,
  order: readonly Operation<Call, Result>[],
): boolean {
  let state = model.initialState;
  for (const operation of order) {
    const result = operation.outcome.status === "ok" ? operation.outcome.result : undefined;
    const outcome = model.step(state, operation.call, result);
    if (!outcome.legal) {
      return false;
    }
    state = outcome.state;
  }
  return true;
}

/** Whether `accept` holds for some permutation of `items` (recursive, at most n! calls). */
function somePermutation<Item>(
  items: readonly Item[],
  accept: (order: readonly Item[]) => boolean,
): boolean {
  if (items.length <= 1) {
    return accept(items);
  }
  return items.some((first, index) => {
    const rest = [...items.slice(0, index), ...items.slice(index + 1)];
    return somePermutation(rest, (order) => accept([first, ...order]));
  });
}
