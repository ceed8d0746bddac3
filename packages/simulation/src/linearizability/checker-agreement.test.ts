import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRandom } from "../random/random.ts";
import {
  checkAppendLogHistory,
  type LogCall,
  type LogOperation,
  type LogResult,
} from "./append-log-checker.ts";
import { isLinearizableByBruteForce } from "./brute-force.ts";
import { illegalStep, type SequentialModel } from "./model.ts";
import { checkRegisterHistory } from "./register-checker.ts";
import {
  type RegisterCall,
  type RegisterOperation,
  type RegisterResult,
  type RegisterValue,
  registerModel,
} from "./register-model.ts";
import {
  generateLogHistory,
  generateRegisterHistory,
  mutateRegisterHistory,
  type WorkloadShape,
} from "./sample-histories.ts";
import { searchLinearization } from "./search.ts";
import { prepareRegisterOperations } from "./unknown-outcomes.ts";

/**
 * The whole store as one object, for the brute force: it does not split by
 * key, so agreement also checks the checker's reliance on locality.
 */
const keyValueModel: SequentialModel<
  ReadonlyMap<string, RegisterValue>,
  RegisterCall,
  RegisterResult
> = {
  initialState: new Map(),
  step(state, call, result) {
    const outcome = registerModel.step(state.get(call.key) ?? null, call, result);
    if (!outcome.legal) {
      return outcome;
    }
    return { legal: true, state: new Map([...state, [call.key, outcome.state]]) };
  },
  isReadOnly: registerModel.isReadOnly,
  stateKey: (state) => JSON.stringify([...state].sort()),
  describeCall: registerModel.describeCall,
  describeResult: registerModel.describeResult,
};

/** A log as a sequential object: appends extend it, a read must return all of it. */
const logModel: SequentialModel<ReadonlyMap<string, readonly string[]>, LogCall, LogResult> = {
  initialState: new Map(),
  step(state, call, result) {
    const entries = state.get(call.log) ?? [];
    if (call.kind === "append") {
      return { legal: true, state: new Map([...state, [call.log, [...entries, call.entry]]]) };
    }
    if (result?.kind === "read" && JSON.stringify(result.entries) !== JSON.stringify(entries)) {
      return illegalStep;
    }
    return { legal: true, state };
  },
  isReadOnly: (call) => call.kind === "read",
  stateKey: (state) => JSON.stringify([...state].sort()),
  describeCall: (call) => JSON.stringify(call),
  describeResult: (result) => JSON.stringify(result),
};

const smallShapes = fc.record({
  operations: fc.integer({ min: 1, max: 7 }),
  keys: fc.integer({ min: 1, max: 2 }),
  clients: fc.integer({ min: 1, max: 4 }),
  unknownProbability: fc.constantFrom(0, 0.2, 0.5),
  values: fc.constantFrom<WorkloadShape["values"]>("unique", "few"),
  latencyMsMax: fc.constantFrom(0, 3, 10),
});
const seeds = fc.integer({ min: 0, max: 2 ** 40 });
const registerVerdict = (history: readonly RegisterOperation[]): boolean =>
  checkRegisterHistory(history).verdict === "linearizable";

describe("the register checker agrees with brute force", () => {
  it("accepts every history produced by a real sequential execution (property)", () => {
    fc.assert(
      fc.property(seeds, smallShapes, (seed, shape) => {
        const history = generateRegisterHistory(createRandom(seed), shape);
        expect(isLinearizableByBruteForce(keyValueModel, history)).toBe(true);
        expect(checkRegisterHistory(history).verdict).toBe("linearizable");
      }),
      { numRuns: 300 },
    );
  });

  it("gives the brute force's verdict on mutated histories (property)", () => {
    let rejected = 0;
    fc.assert(
      fc.property(seeds, smallShapes, fc.integer({ min: 1, max: 2 }), (seed, shape, mutations) => {
        const random = createRandom(seed);
        let history = generateRegisterHistory(random, {
          ...shape,
          operations: Math.min(shape.operations, 6),
        });
        for (let round = 0; round < mutations; round += 1) {
          history = mutateRegisterHistory(random, history);
        }
        const expected = isLinearizableByBruteForce(keyValueModel, history);
        rejected += expected ? 0 : 1;
        expect(registerVerdict(history)).toBe(expected);
      }),
      { numRuns: 600 },
    );
    // The mutations must actually produce violations, or this test proves little.
    expect(rejected).toBeGreaterThan(60);
  });

  it("returns a witness order that a naive replay accepts (property)", () => {
    fc.assert(
      fc.property(seeds, smallShapes, (seed, shape) => {
        const history = generateRegisterHistory(createRandom(seed), {
          ...shape,
          keys: 1,
          operations: 20,
          // Many unknown writes of few distinct values can legitimately need
          // millions of steps; this test is about the witness, not the budget.
          unknownProbability: Math.min(shape.unknownProbability, 0.2),
        });
        const prepared = prepareRegisterOperations(history);
        const verdict = searchLinearization(registerModel, prepared, 1_000_000);
        expect(verdict.kind).toBe("linearizable");
        if (verdict.kind !== "linearizable") {
          return;
        }
        expect([...verdict.order].sort((a, b) => a - b)).toEqual(prepared.map((_, index) => index));
        let state: RegisterValue = null;
        verdict.order.forEach((index, position) => {
          const operation = prepared[index];
          if (operation === undefined) {
            throw new Error("index out of range");
          }
          for (const later of verdict.order.slice(position + 1)) {
            expect(prepared[later]?.returnMs).toBeGreaterThanOrEqual(operation.callMs);
          }
          const outcome = registerModel.step(state, operation.call, operation.result);
          expect(outcome.legal).toBe(true);
          state = outcome.legal ? outcome.state : state;
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe("the append-log checker agrees with brute force", () => {
  const mutateLog = (
    random: ReturnType<typeof createRandom>,
    history: LogOperation[],
  ): LogOperation[] => {
    const index = random.integerBelow(history.length);
    return history.map((operation, position) => {
      if (position !== index) {
        return operation;
      }
      const { outcome } = operation;
      if (outcome.status !== "ok" || random.chance(0.3)) {
        return { ...operation, callMs: operation.callMs + random.integerBetween(-10, 10) };
      }
      if (outcome.result.kind === "read") {
        const entries = random.shuffle([
          ...outcome.result.entries,
          ...(random.chance(0.5) ? ["e0"] : []),
        ]);
        return {
          ...operation,
          outcome: {
            ...outcome,
            result: {
              kind: "read",
              entries: entries.slice(0, random.integerBetween(0, entries.length)),
            },
          },
        };
      }
      return { ...operation, outcome: { status: "unknown" } };
    });
  };

  it("accepts real executions and matches brute force on mutated ones (property)", () => {
    let mutated = 0;
    let rejected = 0;
    fc.assert(
      fc.property(seeds, smallShapes, fc.integer({ min: 0, max: 3 }), (seed, shape, mutations) => {
        const random = createRandom(seed);
        let history = generateLogHistory(random, {
          ...shape,
          operations: Math.min(shape.operations, 6),
        });
        for (let round = 0; round < mutations; round += 1) {
          history = mutateLog(random, history).map(fixReturn);
        }
        const expected = isLinearizableByBruteForce(logModel, history);
        mutated += mutations > 0 ? 1 : 0;
        rejected += expected ? 0 : 1;
        if (mutations === 0) {
          expect(expected).toBe(true);
        }
        expect(checkAppendLogHistory(history).verdict === "linearizable").toBe(expected);
      }),
      { numRuns: 800 },
    );
    // The mutations must actually produce violations, or this test proves little.
    expect(rejected).toBeGreaterThan(mutated / 10);
  });
});

/** A mutation may move a call past its return; keep the history well formed. */
function fixReturn(operation: LogOperation): LogOperation {
  const { outcome } = operation;
  if (outcome.status === "ok" && outcome.returnMs < operation.callMs) {
    return { ...operation, outcome: { ...outcome, returnMs: operation.callMs } };
  }
  return operation;
}
