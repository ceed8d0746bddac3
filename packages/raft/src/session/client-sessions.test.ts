import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ClientSessionLimits, ClientSessionTable } from "./client-sessions.ts";

const limits: ClientSessionLimits = {
  sessionsMax: 3,
  idleIndexesMax: 100,
  idleMs: 60_000,
  pendingResponsesMax: 4,
};

const command = (sequence: number, firstUnacknowledged = 0) => ({
  clientId: "alice",
  sequence,
  firstUnacknowledged,
});

describe("ClientSessionTable", () => {
  it("applies a command once and answers its retry from the cache", () => {
    const table = new ClientSessionTable<string>(limits);
    table.register("alice", 1, 0);
    let executions = 0;
    const execute = () => `result-${++executions}`;
    expect(table.apply(command(1), 2, 0, execute)).toEqual({
      status: "applied",
      response: "result-1",
    });
    expect(table.apply(command(1), 3, 0, execute)).toEqual({
      status: "duplicate",
      response: "result-1",
    });
    expect(executions).toBe(1);
  });

  it("refuses commands from a session that was never registered or has expired", () => {
    const table = new ClientSessionTable<string>(limits);
    expect(table.begin(command(1), 1, 0)).toEqual({ kind: "sessionExpired" });
    table.register("alice", 1, 0);
    expect(table.expire(102, 0)).toEqual(["alice"]);
    expect(table.begin(command(1), 103, 0)).toEqual({ kind: "sessionExpired" });
  });

  it("expires by entry time as well as by index", () => {
    const table = new ClientSessionTable<string>(limits);
    table.register("alice", 1, 1_000);
    table.register("bob", 1, 50_000);
    expect(table.expire(2, 61_001)).toEqual(["alice"]);
    expect(table.has("bob")).toBe(true);
  });

  it("handles pipelined commands committed out of order, exactly once each", () => {
    const table = new ClientSessionTable<number>(limits);
    table.register("alice", 1, 0);
    expect(table.apply(command(2), 2, 0, () => 2).status).toBe("applied");
    expect(table.apply(command(1), 3, 0, () => 1).status).toBe("applied");
    expect(table.apply(command(2), 4, 0, () => 99)).toEqual({ status: "duplicate", response: 2 });
  });

  it("drops acknowledged responses and refuses stale retries of them", () => {
    const table = new ClientSessionTable<number>(limits);
    table.register("alice", 1, 0);
    table.apply(command(1), 2, 0, () => 1);
    table.apply(command(2, 2), 3, 0, () => 2);
    expect(table.begin(command(1, 0), 4, 0)).toEqual({ kind: "acknowledged" });
    expect(table.toSnapshot().sessions[0]?.responses).toEqual([[2, 2]]);
  });

  it("bounds unacknowledged responses per client", () => {
    const table = new ClientSessionTable<number>(limits);
    table.register("alice", 1, 0);
    for (let sequence = 1; sequence <= 4; sequence++)
      table.apply(command(sequence), 1 + sequence, 0, () => sequence);
    expect(table.begin(command(5), 10, 0)).toEqual({ kind: "tooManyPending" });
    expect(table.begin(command(5, 3), 11, 0)).toEqual({ kind: "apply" });
  });

  it("evicts the least recently active session when full, identically everywhere", () => {
    const table = new ClientSessionTable<number>(limits);
    table.register("carol", 5, 0);
    table.register("bob", 5, 0);
    table.register("alice", 7, 0);
    expect(table.register("dave", 8, 0)).toEqual(["bob"]);
    expect(table.size).toBe(3);
  });

  it("survives a snapshot round trip with the same decisions", () => {
    const table = new ClientSessionTable<string>(limits);
    table.register("alice", 1, 0);
    table.apply(command(1), 2, 0, () => "one");
    const copy = ClientSessionTable.fromSnapshot(structuredClone(table.toSnapshot()), limits);
    expect(copy.toSnapshot()).toEqual(table.toSnapshot());
    expect(copy.begin(command(1), 3, 0)).toEqual({ kind: "duplicate", response: "one" });
  });

  it("executes each (client, sequence) at most once under any retry pattern (property)", () => {
    const attempt = fc.record({
      client: fc.constantFrom("a", "b"),
      sequence: fc.integer({ min: 1, max: 6 }),
      acknowledge: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 80 }), (attempts) => {
        const table = new ClientSessionTable<string>({ ...limits, pendingResponsesMax: 10 });
        table.register("a", 0, 0);
        table.register("b", 0, 0);
        const executed = new Set<string>();
        const received = new Map<string, number>();
        attempts.forEach((a, i) => {
          // A client acknowledges only what it has received, contiguously.
          let firstUnacknowledged = 0;
          if (a.acknowledge) {
            firstUnacknowledged = 1;
            while (executed.has(`${a.client}/${firstUnacknowledged}`)) firstUnacknowledged++;
            firstUnacknowledged = Math.min(firstUnacknowledged, received.get(a.client) ?? 0);
          }
          const result = table.apply(
            { clientId: a.client, sequence: a.sequence, firstUnacknowledged },
            i + 1,
            0,
            () => {
              const key = `${a.client}/${a.sequence}`;
              expect(executed.has(key), `${key} executed twice`).toBe(false);
              executed.add(key);
              return key;
            },
          );
          if (result.status !== "refused") {
            expect(result.response).toBe(`${a.client}/${a.sequence}`);
            received.set(a.client, Math.max(received.get(a.client) ?? 0, a.sequence));
          }
        });
      }),
    );
  });
});
