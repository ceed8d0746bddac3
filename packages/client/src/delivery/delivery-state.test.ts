import { ParleyError } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type DeliveryInput,
  type DeliveryProgress,
  type DeliveryState,
  initialDeliveryState,
  nextDeliveryState,
} from "./delivery-state.ts";

const acceptance = { sequence: 7, streamPosition: 70, acceptedAtMs: 1000, controlIndex: 3 };
const refused = new ParleyError("forbidden", "not a member");

/** A report of the sender's server (§10.14): counts within a room of 3 servers and 10 devices. */
function report(servers: number, devices: number, refusedBy: DeliveryProgress["refusedBy"] = []) {
  return {
    servers: { delivered: servers, total: 3 },
    devices: { delivered: devices, total: 10 },
    refusedBy,
  };
}

const progressInputs: fc.Arbitrary<DeliveryInput> = fc
  .record({ servers: fc.nat(3), devices: fc.nat(10), atMs: fc.nat(10_000) })
  .map(({ servers, devices, atMs }) => ({
    type: "progress",
    progress: report(servers, devices),
    atMs,
  }));

const inputs: fc.Arbitrary<DeliveryInput> = fc.oneof(
  fc.constantFrom<DeliveryInput>(
    { type: "attempt" },
    { type: "accepted", acceptance },
    { type: "failed", error: refused },
    { type: "retry" },
    { type: "delivered", deliveredAtMs: 2000 },
  ),
  progressInputs,
);

/** Runs inputs, skipping the ones the machine refuses (as callers never send them). */
function run(sequence: readonly DeliveryInput[]): DeliveryState[] {
  const states = [initialDeliveryState];
  for (const input of sequence) {
    const last = states.at(-1) ?? initialDeliveryState;
    try {
      states.push(nextDeliveryState(last, input));
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid_argument" });
    }
  }
  return states;
}

describe("delivery state machine", () => {
  it("walks pending → accepted → delivered, and failed → pending on retry", () => {
    const failed = nextDeliveryState(nextDeliveryState(initialDeliveryState, { type: "attempt" }), {
      type: "failed",
      error: refused,
    });
    expect(failed).toEqual({ status: "failed", error: refused, attempts: 1 });
    const retried = nextDeliveryState(failed, { type: "retry" });
    expect(retried).toEqual({ status: "pending", attempts: 1 });
    const accepted = nextDeliveryState(retried, { type: "accepted", acceptance });
    expect(accepted).toEqual({ status: "accepted", ...acceptance });
    expect(nextDeliveryState(accepted, { type: "delivered", deliveredAtMs: 5 })).toEqual({
      status: "delivered",
      deliveredAtMs: 5,
      ...acceptance,
    });
  });

  it("refuses transitions it does not have", () => {
    const accepted = nextDeliveryState(initialDeliveryState, { type: "accepted", acceptance });
    expect(() => nextDeliveryState(accepted, { type: "failed", error: refused })).toThrow(
      ParleyError,
    );
    expect(() => nextDeliveryState(initialDeliveryState, { type: "retry" })).toThrow(ParleyError);
    expect(() =>
      nextDeliveryState(initialDeliveryState, { type: "delivered", deliveredAtMs: 1 }),
    ).toThrow(ParleyError);
  });

  it("never leaves accepted or delivered for pending or failed, whatever comes", () => {
    fc.assert(
      fc.property(fc.array(inputs, { maxLength: 40 }), (sequence) => {
        const states = run(sequence);
        const firstSettled = states.findIndex(
          (state) => state.status === "accepted" || state.status === "delivered",
        );
        if (firstSettled === -1) return;
        for (const state of states.slice(firstSettled)) {
          expect(["accepted", "delivered"]).toContain(state.status);
        }
      }),
    );
  });

  it("counts attempts one by one while pending and keeps the count through failure and retry", () => {
    fc.assert(
      fc.property(fc.array(inputs, { maxLength: 40 }), (sequence) => {
        const states = run(sequence);
        for (let index = 1; index < states.length; index += 1) {
          const before = states[index - 1];
          const after = states[index];
          if (before === undefined || after === undefined) continue;
          if (before.status === "pending" && after.status === "pending") {
            expect(after.attempts).toBe(before.attempts + 1);
          }
          if (before.status === "pending" && after.status === "failed") {
            expect(after.attempts).toBe(before.attempts);
          }
        }
      }),
    );
  });

  it("counts servers and devices after acceptance, and is delivered once every server holds it", () => {
    const accepted = nextDeliveryState(initialDeliveryState, { type: "accepted", acceptance });
    const partly = nextDeliveryState(accepted, {
      type: "progress",
      progress: report(2, 4),
      atMs: 3000,
    });
    expect(partly).toEqual({ status: "accepted", progress: report(2, 4), ...acceptance });
    const everywhere = nextDeliveryState(partly, {
      type: "progress",
      progress: report(3, 7),
      atMs: 4000,
    });
    expect(everywhere).toEqual({
      status: "delivered",
      deliveredAtMs: 4000,
      progress: report(3, 7),
      ...acceptance,
    });
    // A late report of older counts changes nothing; devices go on counting.
    const late = nextDeliveryState(everywhere, {
      type: "progress",
      progress: report(1, 9),
      atMs: 5000,
    });
    expect(late).toEqual({ ...everywhere, progress: report(3, 9) });
    expect(() =>
      nextDeliveryState(initialDeliveryState, {
        type: "progress",
        progress: report(1, 1),
        atMs: 1,
      }),
    ).toThrow(ParleyError);
  });

  it("names each server that refused the message once, beside the counts", () => {
    const accepted = nextDeliveryState(initialDeliveryState, { type: "accepted", acceptance });
    const refusal = { server: "b.example", code: "forbidden" };
    const first = nextDeliveryState(accepted, {
      type: "progress",
      progress: report(2, 2, [refusal]),
      atMs: 1,
    });
    const again = nextDeliveryState(first, {
      type: "progress",
      progress: report(2, 3, [refusal]),
      atMs: 2,
    });
    expect(again).toMatchObject({ status: "accepted", progress: report(2, 3, [refusal]) });
  });

  it("never lowers a count, whatever order reports come in", () => {
    fc.assert(
      fc.property(fc.array(inputs, { maxLength: 40 }), (sequence) => {
        const states = run(sequence);
        for (let index = 1; index < states.length; index += 1) {
          const before = states[index - 1];
          const after = states[index];
          if (before === undefined || after === undefined) continue;
          if (!("progress" in before) || before.progress === undefined) continue;
          if (!("progress" in after) || after.progress === undefined) continue;
          expect(after.progress.servers.delivered).toBeGreaterThanOrEqual(
            before.progress.servers.delivered,
          );
          expect(after.progress.devices.delivered).toBeGreaterThanOrEqual(
            before.progress.devices.delivered,
          );
        }
      }),
    );
  });
});
