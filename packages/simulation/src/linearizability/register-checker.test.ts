import { describe, expect, it } from "vitest";
import { SimulationMisuseError } from "../misuse.ts";
import { createRandom } from "../random/random.ts";
import { SimulatedScheduler } from "../time/scheduler.ts";
import { HistoryRecorder } from "./history.ts";
import { checkRegisterHistory } from "./register-checker.ts";
import type {
  RegisterCall,
  RegisterOperation,
  RegisterResult,
  RegisterValue,
} from "./register-model.ts";
import { generateRegisterHistory } from "./sample-histories.ts";

let nextId = 0;

/** A completed operation: `op("c1", 0, 10, put("x", "a"), ok)`. */
function op(
  client: string,
  callMs: number,
  returnMs: number | "unknown",
  call: RegisterCall,
  result?: RegisterResult,
): RegisterOperation {
  nextId += 1;
  if (returnMs === "unknown" || result === undefined) {
    return { id: nextId, client, call, callMs, outcome: { status: "unknown" } };
  }
  return { id: nextId, client, call, callMs, outcome: { status: "ok", result, returnMs } };
}
const get = (key: string): RegisterCall => ({ kind: "get", key });
const put = (key: string, value: string): RegisterCall => ({ kind: "put", key, value });
const compareAndSet = (key: string, expected: RegisterValue, value: string): RegisterCall => ({
  kind: "compare-and-set",
  key,
  expected,
  value,
});
const read = (value: RegisterValue): RegisterResult => ({ kind: "get", value });
const written: RegisterResult = { kind: "put" };
const swapped = (succeeded: boolean): RegisterResult => ({ kind: "compare-and-set", succeeded });

describe("checkRegisterHistory", () => {
  it("accepts a sequential history and the empty history", () => {
    expect(checkRegisterHistory([]).verdict).toBe("linearizable");
    const history = [
      op("c1", 0, 10, get("x"), read(null)),
      op("c1", 20, 30, put("x", "a"), written),
      op("c2", 40, 50, get("x"), read("a")),
      op("c2", 60, 70, compareAndSet("x", "a", "b"), swapped(true)),
      op("c1", 80, 90, compareAndSet("x", "a", "c"), swapped(false)),
    ];
    expect(checkRegisterHistory(history).verdict).toBe("linearizable");
  });

  it("accepts a read concurrent with a write seeing either value", () => {
    for (const seen of [null, "a"]) {
      const history = [
        op("c1", 0, 100, put("x", "a"), written),
        op("c2", 10, 20, get("x"), read(seen)),
      ];
      expect(checkRegisterHistory(history).verdict).toBe("linearizable");
    }
  });

  it("rejects a stale read and explains it", () => {
    const history = [
      op("c1", 0, 10, put("x", "a"), written),
      op("c1", 20, 30, put("x", "b"), written),
      op("c2", 40, 50, get("x"), read("a")),
    ];
    const result = checkRegisterHistory(history);
    expect(result.verdict).toBe("not-linearizable");
    if (result.verdict !== "not-linearizable") {
      return;
    }
    const ids = history.map((operation) => operation.id);
    expect(result.counterexample.key).toBe("x");
    expect(result.counterexample.operations.map((operation) => operation.id)).toEqual(ids);
    expect(result.counterexample.longestLinearization).toEqual(ids.slice(0, 2));
    expect(result.counterexample.stuckOperation).toBe(ids[2]);
    expect(result.counterexample.description).toContain(`#${ids[2]} c2 [40, 50] get x → "a"`);
  });

  it("reports the failing key with the fewest operations", () => {
    const stale = (key: string, extraReads: number) => [
      op("c1", 0, 10, put(key, "a"), written),
      op("c1", 20, 30, put(key, "b"), written),
      ...Array.from({ length: extraReads }, () => op("c3", 32, 34, get(key), read("b"))),
      op("c2", 40, 50, get(key), read("a")),
    ];
    const result = checkRegisterHistory([
      ...stale("big", 5),
      ...stale("small", 1),
      op("c4", 0, 1, get("fine"), read(null)),
    ]);
    expect(result.verdict === "not-linearizable" && result.counterexample.key).toBe("small");
  });

  it("lets an unknown write take effect late, or never", () => {
    const late = [op("c1", 0, "unknown", put("x", "a")), op("c2", 500, 510, get("x"), read("a"))];
    const never = [op("c1", 0, "unknown", put("x", "a")), op("c2", 500, 510, get("x"), read(null))];
    expect(checkRegisterHistory(late).verdict).toBe("linearizable");
    expect(checkRegisterHistory(never).verdict).toBe("linearizable");
  });

  it("still rejects a read of a value whose only writer began after the read returned", () => {
    const history = [op("c2", 0, 10, get("x"), read("a")), op("c1", 20, "unknown", put("x", "a"))];
    expect(checkRegisterHistory(history).verdict).toBe("not-linearizable");
  });

  it("keeps an unobserved unknown write that explains a failed compare-and-set", () => {
    // Dropping the unknown put of "b" would make this look non-linearizable.
    const history = [
      op("c1", 0, 10, put("x", "a"), written),
      op("c2", 20, "unknown", put("x", "b")),
      op("c3", 30, 40, compareAndSet("x", "a", "c"), swapped(false)),
    ];
    expect(checkRegisterHistory(history).verdict).toBe("linearizable");
  });

  it("rejects a lost acknowledged write", () => {
    const history = [
      op("c1", 0, 10, put("x", "a"), written),
      op("c2", 20, "unknown", put("x", "b")),
      op("c3", 30, 40, get("x"), read("b")),
      op("c3", 50, 60, get("x"), read("a")),
    ];
    expect(checkRegisterHistory(history).verdict).toBe("not-linearizable");
  });

  it("answers unknown, not forever, when the step budget runs out", () => {
    const history = Array.from({ length: 12 }, (_, index) =>
      op(`c${index}`, 0, 100, put("x", `v${index}`), written),
    );
    history.push(op("r", 200, 210, get("x"), read("missing")));
    const result = checkRegisterHistory(history, { stepsMax: 1_000 });
    expect(result).toMatchObject({ verdict: "unknown", reason: "step-budget-exceeded", key: "x" });
    expect(result.steps).toBeLessThanOrEqual(1_000);
  });

  it("refuses malformed histories", () => {
    const first = op("c1", 0, 10, get("x"), read(null));
    expect(() => checkRegisterHistory([first, first])).toThrow(SimulationMisuseError);
    expect(() => checkRegisterHistory([op("c1", 10, 5, get("x"), read(null))])).toThrow(
      SimulationMisuseError,
    );
  });
});

describe("HistoryRecorder", () => {
  it("records calls and returns on the clock, leaves failures out and open requests unknown", () => {
    const scheduler = new SimulatedScheduler();
    const recorder = new HistoryRecorder<RegisterCall, RegisterResult>(scheduler);
    const putId = recorder.invoke("c1", put("x", "a"));
    const failedId = recorder.invoke("c2", put("x", "b"));
    scheduler.runUntil(10);
    recorder.complete(putId, written);
    recorder.fail(failedId);
    recorder.invoke("c3", get("x"));
    expect(recorder.operations()).toEqual([
      {
        id: putId,
        client: "c1",
        call: put("x", "a"),
        callMs: 0,
        outcome: { status: "ok", result: written, returnMs: 10 },
      },
      { id: 2, client: "c3", call: get("x"), callMs: 10, outcome: { status: "unknown" } },
    ]);
    expect(() => recorder.complete(putId, written)).toThrow(SimulationMisuseError);
    expect(checkRegisterHistory(recorder.operations()).verdict).toBe("linearizable");
  });
});

describe("checker speed", () => {
  it("checks 1,000 operations over 10 keys, with unknown outcomes, in well under a second", () => {
    const history = generateRegisterHistory(createRandom(2024), {
      operations: 1_000,
      keys: 10,
      clients: 10,
      unknownProbability: 0.02,
      values: "unique",
      latencyMsMax: 10,
    });
    expect(
      history.filter((operation) => operation.outcome.status === "unknown").length,
    ).toBeGreaterThan(5);
    const startMs = performance.now();
    const result = checkRegisterHistory(history);
    const elapsedMs = performance.now() - startMs;
    expect(result.verdict).toBe("linearizable");
    // Typically a few milliseconds; the bound only catches a lost optimization.
    expect(elapsedMs).toBeLessThan(1_000);
  });
});
