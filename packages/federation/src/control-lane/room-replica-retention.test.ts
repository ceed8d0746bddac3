import { makeUserId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import { describe, expect, it } from "vitest";
import {
  controlRecordBytesRetainedPerRoomMax,
  controlRecordsRetainedPerRoomMax,
} from "../limits.ts";
import { encodeControlRecord } from "./control-record.ts";
import { RoomReplica } from "./room-replica.ts";

const room = roomIdFromBytes(new Uint8Array(16).fill(9));
const creator = makeUserId("admin", "a.test" as ServerName);

function record(entry: Omit<ControlEntry, "actor" | "proposedAtMs">): Uint8Array {
  return encodeControlRecord({
    entry: { actor: { type: "user", user: creator }, proposedAtMs: 0, ...entry },
    proposer: "a.test" as ServerName,
    proposalId: 0,
  });
}

function replicaWithCreate(): RoomReplica {
  const replica = RoomReplica.empty(room);
  replica.apply(
    record({
      action: {
        type: "create",
        roomId: room,
        kind: "plain",
        contentType: "text/plain",
        name: "retention",
        topic: "",
        joinRule: "invite",
        sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
      },
    }),
  );
  return replica;
}

describe("records a replica keeps for catch-up", () => {
  it("are bounded in bytes as well as in count, and the newest are always kept", () => {
    const replica = replicaWithCreate();
    const label = "y".repeat(60);
    const deny = Array.from({ length: 512 }, (_, n) => `p${n}.${label}.${label}.${label}.invalid`);
    const large = record({ action: { type: "set-server-acl", serverAcl: { allow: ["*"], deny } } });
    expect(large.length).toBeGreaterThan(64 * 1024);
    const count = Math.ceil((2 * controlRecordBytesRetainedPerRoomMax) / large.length);
    for (let n = 0; n < count; n += 1) replica.apply(large);
    const applied = replica.appliedIndex;
    expect(applied).toBe(count + 1);
    // The oldest records went: a leaf that far behind gets a snapshot.
    expect(replica.recordsAfter(1, 10)).toBeNull();
    const keptCount = Math.floor(controlRecordBytesRetainedPerRoomMax / large.length);
    const kept = replica.recordsAfter(applied - keptCount, Number.MAX_SAFE_INTEGER);
    expect(kept?.map((at) => at.index)).toEqual(
      Array.from({ length: keptCount }, (_, n) => applied - keptCount + 1 + n),
    );
    expect(replica.recordsAfter(applied - keptCount - 1, 1)).toBeNull();
    expect(replica.chainHashAt(applied - keptCount)).toBeDefined();
    expect(replica.chainHashAt(applied - keptCount - 1)).toBeUndefined();
  });

  it("are bounded in count when they are small", () => {
    const replica = replicaWithCreate();
    const small = record({ action: { type: "set-topic", topic: "small" } });
    for (let n = 0; n < controlRecordsRetainedPerRoomMax + 50; n += 1) replica.apply(small);
    const applied = replica.appliedIndex;
    const kept = replica.recordsAfter(
      applied - controlRecordsRetainedPerRoomMax,
      Number.MAX_SAFE_INTEGER,
    );
    expect(kept?.length).toBe(controlRecordsRetainedPerRoomMax);
    expect(replica.recordsAfter(applied - controlRecordsRetainedPerRoomMax - 1, 1)).toBeNull();
  });
});
