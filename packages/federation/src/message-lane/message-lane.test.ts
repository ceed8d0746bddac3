import { makeUserId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import type { ControlEntry, RoomAction } from "@parley/room";
import { describe, expect, it } from "vitest";
import { encodeControlRecord } from "../control-lane/control-record.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { Frame } from "../frames/frame.ts";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { defaultAntiEntropyTiming } from "./anti-entropy.ts";
import { RoomMessageLane } from "./message-lane.ts";
import { MemoryMessageStore } from "./message-store.ts";
import type { StoredMessage } from "./stamped-message.ts";

const alpha = "alpha.test" as ServerName;
const beta = "beta.test" as ServerName;
const room = roomIdFromBytes(new Uint8Array(16).fill(1));
const admin = makeUserId("admin", alpha);
const bob = makeUserId("bob", beta);

function entry(action: RoomAction, actor = admin): ControlEntry {
  return { actor: { type: "user", user: actor }, action, proposedAtMs: 0 };
}

/** The control log both servers follow: create (1), invite bob (2), bob joins (3), ban bob (4). */
const log = [
  entry({
    type: "create",
    roomId: room,
    kind: "plain",
    contentType: "text/plain",
    name: "lane",
    topic: "",
    joinRule: "invite",
    sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
  }),
  entry({ type: "invite", target: bob }),
  entry({ type: "join" }, bob),
  entry({ type: "ban", target: bob, reason: "spam" }),
].map((item) => encodeControlRecord({ entry: item, proposer: alpha, proposalId: 0 }));

function server(name: ServerName) {
  const replica = RoomReplica.empty(room);
  const sent: Array<{ to: ServerName; frame: Frame }> = [];
  const stored: StoredMessage[] = [];
  let now = 1000;
  const lane = new RoomMessageLane({
    room,
    self: name,
    store: new MemoryMessageStore(),
    control: replica,
    clock: { nowMs: () => now },
    timing: defaultAntiEntropyTiming,
    output: {
      send: (to, frame) => sent.push({ to, frame }),
      stored: (message) => stored.push(message),
      forwardTargets: (path) => [alpha, beta].filter((peer) => !path.includes(peer)),
    },
  });
  const applyThrough = (index: number) => {
    while (replica.appliedIndex < index) replica.apply(log[replica.appliedIndex] as Uint8Array);
    lane.controlAdvanced();
  };
  return { replica, lane, sent, stored, applyThrough, advance: (ms: number) => (now += ms) };
}

const origin = sponsorNodeId(alpha, 1);

describe("message lane", () => {
  it("stamps with gap-free sequences, the applied index and a clock that never goes back", () => {
    const sponsor = server(alpha);
    sponsor.applyThrough(3);
    const first = sponsor.lane.accept(origin, bob, "m1", new Uint8Array());
    sponsor.advance(-500);
    const second = sponsor.lane.accept(origin, bob, "m2", new Uint8Array());
    if (first.kind !== "accepted" || second.kind !== "accepted") throw new Error("accepted");
    expect([first.message.sequence, second.message.sequence]).toEqual([1, 2]);
    expect(second.message.controlIndex).toBe(3);
    expect(second.message.acceptedAtMs).toBe(first.message.acceptedAtMs);
    const retry = sponsor.lane.accept(origin, bob, "m1", new Uint8Array());
    expect(retry).toMatchObject({ kind: "accepted", repeated: true, message: first.message });
  });

  it("holds a message stamped ahead of the applied index, and stores it once the index applies", () => {
    const sponsor = server(alpha);
    sponsor.applyThrough(3);
    const accepted = sponsor.lane.accept(origin, bob, "m1", new Uint8Array());
    if (accepted.kind !== "accepted") throw new Error("accepted");
    const receiver = server(beta);
    receiver.applyThrough(2);
    receiver.lane.receive(accepted.message, [alpha], "routed");
    expect(receiver.lane.heldCount).toBe(1);
    expect(receiver.stored).toEqual([]);
    receiver.applyThrough(3);
    expect(receiver.stored.map((stored) => stored.verdict)).toEqual(["allowed"]);
    receiver.lane.receive(accepted.message, [alpha], "routed");
    expect(receiver.lane.statistics.duplicates).toBe(1);
  });

  it("answers a submission another sponsor stamped with that stamp, not a second one", () => {
    const first = server(alpha);
    const second = server(beta);
    first.applyThrough(3);
    second.applyThrough(3);
    const accepted = first.lane.accept(origin, bob, "m1", new Uint8Array([1]));
    if (accepted.kind !== "accepted") throw new Error("accepted");
    second.lane.receive(accepted.message, [alpha], "routed");
    // The leaf failed over to beta and repeats its submission there.
    const repeated = second.lane.accept(sponsorNodeId(beta, 1), bob, "m1", new Uint8Array([1]));
    expect(repeated).toMatchObject({ kind: "accepted", repeated: true, message: accepted.message });
    expect(second.stored).toHaveLength(1);
    const fresh = second.lane.accept(sponsorNodeId(beta, 1), bob, "m2", new Uint8Array([2]));
    expect(fresh).toMatchObject({ kind: "accepted", repeated: false });
  });

  it("judges a message at its stamped index: a ban takes effect from its index on, everywhere", () => {
    const sponsor = server(alpha);
    sponsor.applyThrough(3);
    const before = sponsor.lane.accept(origin, bob, "m1", new Uint8Array());
    if (before.kind !== "accepted") throw new Error("accepted");
    sponsor.applyThrough(4);
    expect(sponsor.lane.accept(origin, bob, "m2", new Uint8Array())).toMatchObject({
      kind: "refused",
      code: "banned",
    });
    // A faulty sponsor stamps after the ban anyway: every receiver refuses it.
    const forged = { ...before.message, sequence: 2, controlIndex: 4, clientMessageId: "m3" };
    const receiver = server(beta);
    receiver.applyThrough(4);
    receiver.lane.receive(before.message, [alpha], "routed");
    receiver.lane.receive(forged, [alpha], "routed");
    expect(receiver.stored.map((stored) => stored.verdict)).toEqual(["allowed", "refused"]);
  });

  it("pulls what a partner's marks say it lacks only after the grace period", () => {
    const sponsor = server(alpha);
    sponsor.applyThrough(3);
    const messages = ["m1", "m2", "m3"].map((id) => {
      const outcome = sponsor.lane.accept(origin, bob, id, new Uint8Array());
      if (outcome.kind !== "accepted") throw new Error("accepted");
      return outcome.message;
    });
    const receiver = server(beta);
    receiver.applyThrough(3);
    receiver.lane.receive(messages[0] as (typeof messages)[0], [alpha], "routed");
    receiver.lane.onMarks(alpha, sponsor.lane.marksFrame(), 10);
    const requests = () => receiver.sent.filter((sent) => sent.frame.type === "backfill-request");
    receiver.lane.antiEntropy([alpha], 11);
    expect(requests()).toEqual([]);
    receiver.lane.antiEntropy([alpha], 10 + defaultAntiEntropyTiming.graceTicks);
    const request = requests()[0]?.frame;
    if (request?.type !== "backfill-request") throw new Error("a backfill request was sent");
    expect(request.after).toBe(1);
    receiver.lane.onBackfillResponse(alpha, sponsor.lane.onBackfillRequest(request), 14);
    expect(receiver.lane.contiguous(origin)).toBe(3);
  });

  it("does not pull messages that arrive within the grace period (steady state: one copy)", () => {
    const sponsor = server(alpha);
    sponsor.applyThrough(3);
    const outcome = sponsor.lane.accept(origin, bob, "m1", new Uint8Array());
    if (outcome.kind !== "accepted") throw new Error("accepted");
    const receiver = server(beta);
    receiver.applyThrough(3);
    receiver.lane.onMarks(alpha, sponsor.lane.marksFrame(), 10);
    receiver.lane.receive(outcome.message, [alpha], "routed");
    for (let tick = 11; tick < 30; tick += 1) receiver.lane.antiEntropy([alpha], tick);
    expect(receiver.sent.filter((sent) => sent.frame.type === "backfill-request")).toEqual([]);
  });
});
