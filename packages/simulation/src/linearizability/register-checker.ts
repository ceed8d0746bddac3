import { linearizabilityStepsDefault } from "../limits.ts";
import { ensure } from "../misuse.ts";
import { validateHistory } from "./history.ts";
import { type RegisterOperation, registerModel } from "./register-model.ts";
import { searchLinearization } from "./search.ts";
import { type PreparedOperation, prepareRegisterOperations } from "./unknown-outcomes.ts";

export interface RegisterCheckOptions {
  /** Search steps across all keys before answering "unknown". */
  readonly stepsMax?: number;
}

/** A key whose operations admit no linearization. */
export interface RegisterCounterexample {
  readonly key: string;
  /** The key's operations as searched (unknown reads and unobserved unknown writes left out), by call time. */
  readonly operations: readonly RegisterOperation[];
  /** Ids of the last operations placed and of every unplaced one that had begun by the stuck one's return, by call time. */
  readonly involvedOperations: readonly number[];
  /** Ids of the longest order the search could build. */
  readonly longestLinearization: readonly number[];
  /** Id of an operation that had to take effect before it returned and could not. */
  readonly stuckOperation: number | undefined;
  /** The involved operations and the stuck one, as readable lines. */
  readonly description: string;
}

export type LinearizabilityResult =
  | { readonly verdict: "linearizable"; readonly steps: number }
  | {
      readonly verdict: "not-linearizable";
      readonly steps: number;
      readonly counterexample: RegisterCounterexample;
    }
  | {
      readonly verdict: "unknown";
      readonly steps: number;
      readonly reason: "step-budget-exceeded";
      /** The first key the budget did not suffice for. */
      readonly key: string;
    };

/**
 * Checks a key-value history for linearizability. Keys are checked apart,
 * smallest first, so a violation is reported on the key with the fewest
 * operations that has one. The search is bounded by `stepsMax`; when it runs
 * out and no key has failed, the answer is "unknown", never a hang.
 */
export function checkRegisterHistory(
  operations: readonly RegisterOperation[],
  options: RegisterCheckOptions = {},
): LinearizabilityResult {
  validateHistory(operations);
  const stepsMax = options.stepsMax ?? linearizabilityStepsDefault;
  ensure(
    Number.isSafeInteger(stepsMax) && stepsMax >= 0,
    `stepsMax must be a safe integer ≥ 0, got ${stepsMax}`,
  );
  const keys = [...groupByKey(operations)].sort(
    ([keyA, operationsA], [keyB, operationsB]) =>
      operationsA.length - operationsB.length || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0),
  );
  let steps = 0;
  let firstUnknownKey: string | undefined;
  for (const [key, keyOperations] of keys) {
    const prepared = prepareRegisterOperations(keyOperations);
    const verdict = searchLinearization(registerModel, prepared, stepsMax - steps);
    steps += verdict.steps;
    if (verdict.kind === "not-linearizable") {
      const counterexample = describeCounterexample(
        key,
        prepared,
        verdict.longestPrefix,
        verdict.stuckOperation,
      );
      return { verdict: "not-linearizable", steps, counterexample };
    }
    if (verdict.kind === "unknown") {
      firstUnknownKey ??= key;
    }
  }
  if (firstUnknownKey !== undefined) {
    return { verdict: "unknown", steps, reason: "step-budget-exceeded", key: firstUnknownKey };
  }
  return { verdict: "linearizable", steps };
}

function groupByKey(operations: readonly RegisterOperation[]): Map<string, RegisterOperation[]> {
  const byKey = new Map<string, RegisterOperation[]>();
  for (const operation of operations) {
    const list = byKey.get(operation.call.key);
    if (list === undefined) {
      byKey.set(operation.call.key, [operation]);
    } else {
      list.push(operation);
    }
  }
  return byKey;
}

/** Operations of the prefix shown before the stuck point, for context. */
const contextOperations = 3;

function describeCounterexample(
  key: string,
  prepared: readonly PreparedOperation[],
  longestPrefix: readonly number[],
  stuckIndex: number | undefined,
): RegisterCounterexample {
  const idOf = (index: number): number => (prepared[index] as PreparedOperation).source.id;
  const byCall = (indices: readonly number[]): number[] =>
    [...indices].sort((a, b) => {
      const first = prepared[a] as PreparedOperation;
      const second = prepared[b] as PreparedOperation;
      return first.callMs - second.callMs || first.source.id - second.source.id;
    });
  const everyIndex = prepared.map((_, index) => index);
  const placed = new Set(longestPrefix);
  const horizonMs =
    stuckIndex === undefined
      ? Number.POSITIVE_INFINITY
      : (prepared[stuckIndex] as PreparedOperation).returnMs;
  // What a reader needs: the last operations placed, then every unplaced
  // operation that had begun by the time the stuck one had to be done.
  const involved = byCall([
    ...longestPrefix.slice(-contextOperations),
    ...everyIndex.filter(
      (index) => !placed.has(index) && (prepared[index] as PreparedOperation).callMs <= horizonMs,
    ),
  ]);
  const longestLinearization = longestPrefix.map(idOf);
  const stuckOperation = stuckIndex === undefined ? undefined : idOf(stuckIndex);
  const lines = [
    `key ${JSON.stringify(key)}: no linearization of its ${prepared.length} operations`,
    `${longestPrefix.length} operations linearize, ending ${
      longestLinearization
        .slice(-contextOperations)
        .map((id) => `#${id}`)
        .join(", ") || "(none)"
    }; the operations involved after them:`,
    ...involved.map((index) => `  ${describeOperation(prepared[index] as PreparedOperation)}`),
  ];
  if (stuckOperation !== undefined) {
    lines.push(
      `#${stuckOperation} must take effect before it returns, and no order of the rest allows it`,
    );
  }
  return {
    key,
    operations: byCall(everyIndex).map((index) => (prepared[index] as PreparedOperation).source),
    involvedOperations: involved.map(idOf),
    longestLinearization,
    stuckOperation,
    description: lines.join("\n"),
  };
}

/** `#12 c3 [100, 140] put k "v5" → ok`; a capped unknown shows `[100, ≤140]`. */
function describeOperation(operation: PreparedOperation): string {
  const { source } = operation;
  const known = source.outcome.status === "ok";
  const end =
    operation.returnMs === Number.POSITIVE_INFINITY
      ? "∞)"
      : `${known ? "" : "≤"}${operation.returnMs}]`;
  const result =
    source.outcome.status === "ok"
      ? registerModel.describeResult(source.outcome.result)
      : "unknown";
  return `#${source.id} ${source.client} [${source.callMs}, ${end} ${registerModel.describeCall(source.call)} → ${result}`;
}
