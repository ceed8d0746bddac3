import { describe, expect, it } from "vitest";
import { SimulationMisuseError } from "../misuse.ts";
import { createRandom } from "../random/random.ts";
import { checkAppendLogHistory, type LogOperation } from "./append-log-checker.ts";
import { generateLogHistory } from "./sample-histories.ts";

let nextId = 0;

function append(
  callMs: number,
  returnMs: number | "unknown",
  entry: string,
  log = "room",
): LogOperation {
  nextId += 1;
  const call = { kind: "append", log, entry } as const;
  if (returnMs === "unknown") {
    return { id: nextId, client: "writer", call, callMs, outcome: { status: "unknown" } };
  }
  return {
    id: nextId,
    client: "writer",
    call,
    callMs,
    outcome: { status: "ok", result: { kind: "append" }, returnMs },
  };
}

function read(
  callMs: number,
  returnMs: number | "unknown",
  entries: string[],
  log = "room",
): LogOperation {
  nextId += 1;
  const call = { kind: "read", log } as const;
  if (returnMs === "unknown") {
    return { id: nextId, client: "reader", call, callMs, outcome: { status: "unknown" } };
  }
  return {
    id: nextId,
    client: "reader",
    call,
    callMs,
    outcome: { status: "ok", result: { kind: "read", entries }, returnMs },
  };
}

function problemOf(history: LogOperation[]): string | undefined {
  const result = checkAppendLogHistory(history);
  return result.verdict === "linearizable" ? undefined : result.problem;
}

describe("checkAppendLogHistory", () => {
  it("accepts a sequential history, concurrent appends in either order, and long histories", () => {
    expect(
      problemOf([
        append(0, 10, "a"),
        read(20, 30, ["a"]),
        append(40, 50, "b"),
        read(60, 70, ["a", "b"]),
      ]),
    ).toBeUndefined();
    for (const order of [
      ["a", "b"],
      ["b", "a"],
    ]) {
      expect(
        problemOf([append(0, 100, "a"), append(10, 90, "b"), read(200, 210, order)]),
      ).toBeUndefined();
    }
    const long = generateLogHistory(createRandom(1), {
      operations: 5_000,
      keys: 3,
      clients: 8,
      unknownProbability: 0.02,
      values: "unique",
      latencyMsMax: 10,
    });
    expect(checkAppendLogHistory(long).verdict).toBe("linearizable");
  });

  it("rejects an entry delivered twice (a retry without deduplication)", () => {
    expect(problemOf([append(0, 10, "a"), read(20, 30, ["a", "a"])])).toBe(
      'entry "a" appears twice in one read',
    );
  });

  it("rejects an entry nobody appended", () => {
    expect(problemOf([read(0, 10, ["ghost"])])).toBe('entry "ghost" was read but never appended');
  });

  it("rejects reads that are not prefixes of one order", () => {
    expect(
      problemOf([
        append(0, 100, "a"),
        append(0, 100, "b"),
        read(200, 210, ["a"]),
        read(200, 210, ["b"]),
      ]),
    ).toMatch(/disagree at position 0/);
  });

  it("rejects a read missing an append that completed before it began", () => {
    expect(problemOf([append(0, 10, "a"), read(20, 30, [])])).toMatch(/must take effect before/);
  });

  it("rejects reads going backwards in time", () => {
    const history = [
      append(0, 10, "a"),
      append(0, 10, "b"),
      read(20, 30, ["a", "b"]),
      read(40, 50, ["a"]),
    ];
    expect(problemOf(history)).toMatch(/must take effect before/);
  });

  it("rejects appends ordered against real time", () => {
    expect(problemOf([append(0, 10, "a"), append(20, 30, "b"), read(40, 50, ["b", "a"])])).toMatch(
      /must take effect before/,
    );
  });

  it("rejects a read that saw an append called after the read returned", () => {
    expect(problemOf([read(0, 10, ["a"]), append(20, 30, "a")])).toMatch(/must take effect before/);
  });

  it("treats unknown outcomes as maybe-happened, at any later time", () => {
    expect(problemOf([append(0, "unknown", "a"), read(500, 510, ["a"])])).toBeUndefined();
    expect(problemOf([append(0, "unknown", "a"), read(500, 510, [])])).toBeUndefined();
    expect(problemOf([append(0, 10, "a"), read(20, "unknown", [])])).toBeUndefined();
  });

  it("checks logs apart and names the failing one", () => {
    const result = checkAppendLogHistory([
      append(0, 10, "a", "ok-room"),
      read(20, 30, ["a"], "ok-room"),
      append(0, 10, "b", "bad-room"),
      read(20, 30, [], "bad-room"),
    ]);
    expect(result.verdict === "not-linearizable" && result.log).toBe("bad-room");
  });

  it("refuses an entry appended by two operations", () => {
    expect(() => checkAppendLogHistory([append(0, 10, "a"), append(20, 30, "a")])).toThrow(
      SimulationMisuseError,
    );
  });
});
