import type { Random } from "../random/random.ts";
import type { LogCall, LogOperation, LogResult } from "./append-log-checker.ts";
import type { Outcome } from "./history.ts";
import type {
  RegisterCall,
  RegisterOperation,
  RegisterResult,
  RegisterValue,
} from "./register-model.ts";

/**
 * Histories made by actually running a sequential object under concurrent
 * clients, so they are linearizable by construction: for the checkers' tests
 * and benchmark. Not part of the package's API.
 */
export interface WorkloadShape {
  readonly operations: number;
  readonly keys: number;
  readonly clients: number;
  /** Chance that a request times out: its outcome becomes unknown, and it took effect or not at even odds. */
  readonly unknownProbability: number;
  /** Unique values per write (as a real test would), or a tiny shared domain (harder for the checker). */
  readonly values: "unique" | "few";
  /** Longest time from call to effect and from effect to return. */
  readonly latencyMsMax: number;
}

interface Planned<Call> {
  readonly id: number;
  readonly client: string;
  readonly call: Call;
  readonly callMs: number;
  readonly effectMs: number;
  readonly returnMs: number;
  readonly unknown: boolean;
  readonly tookEffect: boolean;
}

/**
 * Plans the timing: each client issues requests one after another. A client
 * whose request timed out is replaced by a fresh one, as in Jepsen, since it
 * cannot know whether its request is still in flight.
 */
function planTimes<Call>(
  random: Random,
  shape: WorkloadShape,
  makeCall: (id: number) => Call,
): Planned<Call>[] {
  const freeAtMs = new Array<number>(shape.clients).fill(0);
  const incarnation = new Array<number>(shape.clients).fill(0);
  const planned: Planned<Call>[] = [];
  for (let id = 0; id < shape.operations; id += 1) {
    const slot = random.integerBelow(shape.clients);
    // At least 1 ms between one client's requests, so time moves even at zero latency.
    const callMs = (freeAtMs[slot] ?? 0) + random.integerBetween(1, shape.latencyMsMax + 1);
    const effectMs = callMs + random.integerBetween(0, shape.latencyMsMax);
    const returnMs = effectMs + random.integerBetween(0, shape.latencyMsMax);
    const unknown = random.chance(shape.unknownProbability);
    const client = `c${slot}.${incarnation[slot] ?? 0}`;
    planned.push({
      id,
      client,
      call: makeCall(id),
      callMs,
      effectMs,
      returnMs,
      unknown,
      tookEffect: !unknown || random.chance(0.5),
    });
    freeAtMs[slot] = returnMs;
    if (unknown) {
      incarnation[slot] = (incarnation[slot] ?? 0) + 1;
    }
  }
  return planned;
}

/** Applies planned operations in effect order; `apply` returns each one's result. */
function execute<Call, Result>(
  planned: readonly Planned<Call>[],
  apply: (operation: Planned<Call>) => Result,
): Array<{ readonly planned: Planned<Call>; readonly outcome: Outcome<Result> }> {
  const byEffect = [...planned].sort((a, b) => a.effectMs - b.effectMs || a.id - b.id);
  const outcomes = new Map<number, Outcome<Result>>();
  for (const operation of byEffect) {
    const result = operation.tookEffect ? apply(operation) : undefined;
    outcomes.set(
      operation.id,
      operation.unknown || result === undefined
        ? { status: "unknown" }
        : { status: "ok", result, returnMs: operation.returnMs },
    );
  }
  return planned.map((operation) => ({
    planned: operation,
    outcome: outcomes.get(operation.id) ?? { status: "unknown" },
  }));
}

export function generateRegisterHistory(random: Random, shape: WorkloadShape): RegisterOperation[] {
  const keys = Array.from({ length: shape.keys }, (_, index) => `k${index}`);
  const written = new Map<string, string[]>();
  const valueFor = (id: number): string =>
    shape.values === "unique" ? `v${id}` : random.pick(["a", "b", "c"]);
  const makeCall = (id: number): RegisterCall => {
    const key = random.pick(keys);
    const roll = random.integerBelow(10);
    if (roll < 4) {
      return { kind: "get", key };
    }
    const value = valueFor(id);
    written.set(key, [...(written.get(key) ?? []), value]);
    if (roll < 8) {
      return { kind: "put", key, value };
    }
    const candidates: RegisterValue[] = [null, ...(written.get(key) ?? [])];
    return { kind: "compare-and-set", key, expected: random.pick(candidates), value };
  };
  const store = new Map<string, RegisterValue>();
  const results = execute(planTimes(random, shape, makeCall), ({ call }): RegisterResult => {
    const current = store.get(call.key) ?? null;
    switch (call.kind) {
      case "get":
        return { kind: "get", value: current };
      case "put":
        store.set(call.key, call.value);
        return { kind: "put" };
      case "compare-and-set": {
        const succeeded = current === call.expected;
        if (succeeded) {
          store.set(call.key, call.value);
        }
        return { kind: "compare-and-set", succeeded };
      }
    }
  });
  return results.map(({ planned, outcome }) => ({
    id: planned.id,
    client: planned.client,
    call: planned.call,
    callMs: planned.callMs,
    outcome,
  }));
}

export function generateLogHistory(random: Random, shape: WorkloadShape): LogOperation[] {
  const logs = Array.from({ length: shape.keys }, (_, index) => `log${index}`);
  const makeCall = (id: number): LogCall =>
    random.chance(0.5)
      ? { kind: "append", log: random.pick(logs), entry: `e${id}` }
      : { kind: "read", log: random.pick(logs) };
  const contents = new Map<string, string[]>();
  const results = execute(planTimes(random, shape, makeCall), ({ call }): LogResult => {
    const entries = contents.get(call.log) ?? [];
    if (call.kind === "append") {
      contents.set(call.log, [...entries, call.entry]);
      return { kind: "append" };
    }
    return { kind: "read", entries };
  });
  return results.map(({ planned, outcome }) => ({
    id: planned.id,
    client: planned.client,
    call: planned.call,
    callMs: planned.callMs,
    outcome,
  }));
}

/**
 * One random change that may break linearizability: a different result, a
 * moved interval, or a known outcome turned unknown (or the reverse).
 */
export function mutateRegisterHistory(
  random: Random,
  history: readonly RegisterOperation[],
): RegisterOperation[] {
  const index = random.integerBelow(history.length);
  const target = history[index] as RegisterOperation;
  const mutated = { ...target, outcome: mutateOutcome(random, target) };
  const moved = random.chance(0.3)
    ? { ...mutated, callMs: Math.max(0, mutated.callMs + random.integerBetween(-20, 20)) }
    : mutated;
  const fixed: RegisterOperation =
    moved.outcome.status === "ok" && moved.outcome.returnMs < moved.callMs
      ? { ...moved, outcome: { ...moved.outcome, returnMs: moved.callMs } }
      : moved;
  return history.map((operation, position) => (position === index ? fixed : operation));
}

function mutateOutcome(random: Random, operation: RegisterOperation): Outcome<RegisterResult> {
  const { call, outcome } = operation;
  const returnMs =
    outcome.status === "ok" ? outcome.returnMs : operation.callMs + random.integerBetween(0, 20);
  if (random.chance(0.2)) {
    return outcome.status === "ok"
      ? { status: "unknown" }
      : { status: "ok", result: anyResult(random, call), returnMs };
  }
  return { status: "ok", result: anyResult(random, call), returnMs };
}

function anyResult(random: Random, call: RegisterCall): RegisterResult {
  switch (call.kind) {
    case "get":
      return { kind: "get", value: random.pick([null, "a", "b", "c", "v0", "v1", "v2", "v3"]) };
    case "put":
      return { kind: "put" };
    case "compare-and-set":
      return { kind: "compare-and-set", succeeded: random.chance(0.5) };
  }
}
