import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/index.ts";
import type { ContractContext } from "./contract.ts";
import { bytes, controlEntry, createRoom, startMs, textBytes } from "./fixtures.ts";

export function describeRoomContract(context: ContractContext): void {
  describe("rooms and control log", () => {
    it("creates a room once and returns the stored one on a repeat", async () => {
      const rooms = context.storage().rooms;
      const input = {
        roomId: "!general",
        kind: "encrypted" as const,
        contentType: "application/parley-chat",
        createdAtMs: startMs,
      };
      const room = { ...input, lastEventSequence: 0 };
      expect(await rooms.create(input)).toEqual({ kind: "created", room });
      const repeat = await rooms.create({ ...input, kind: "plain" });
      expect(repeat).toEqual({ kind: "room-exists", room });
      expect(await rooms.get("!general")).toEqual(room);
      expect(await rooms.get("!nowhere")).toBeNull();
    });

    it("appends a chained control log and refuses gaps and broken chains", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      const rooms = storage.rooms;
      expect(await rooms.lastControlEntry("room")).toBeNull();
      expect(await rooms.appendControlEntry(controlEntry("room", 2))).toEqual({
        kind: "conflict",
        lastIndex: 0,
      });
      expect(
        await rooms.appendControlEntry({ ...controlEntry("room", 1), previousHash: bytes(1) }),
      ).toEqual({ kind: "conflict", lastIndex: 0 });
      expect(await rooms.appendControlEntry(controlEntry("room", 1))).toEqual({
        kind: "appended",
      });
      expect(await rooms.appendControlEntry(controlEntry("room", 2))).toEqual({
        kind: "appended",
      });
      // The same entry again is a harmless repeat; another entry at a used index is not.
      expect(await rooms.appendControlEntry(controlEntry("room", 2))).toEqual({
        kind: "duplicate",
      });
      expect(
        await rooms.appendControlEntry({ ...controlEntry("room", 2), entryHash: bytes(0) }),
      ).toEqual({ kind: "conflict", lastIndex: 2 });
      expect(
        await rooms.appendControlEntry({ ...controlEntry("room", 3), previousHash: bytes(9) }),
      ).toEqual({ kind: "conflict", lastIndex: 2 });
      expect(await rooms.lastControlEntry("room")).toEqual(controlEntry("room", 2));
    });

    it("refuses a control entry for a room never created", async () => {
      const append = context.storage().rooms.appendControlEntry(controlEntry("nowhere", 1));
      await expect(append).rejects.toThrow(StorageError);
    });

    it("reads the control log in pages that say when they were cut", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      for (let index = 1; index <= 5; index += 1) {
        await storage.rooms.appendControlEntry(controlEntry("room", index));
      }
      const first = await storage.rooms.readControlEntries("room", 1, 3);
      expect(first.items.map((entry) => entry.logIndex)).toEqual([1, 2, 3]);
      expect(first.more).toBe(true);
      const rest = await storage.rooms.readControlEntries("room", 4, 3);
      expect(rest.items.map((entry) => entry.logIndex)).toEqual([4, 5]);
      expect(rest.more).toBe(false);
      expect(rest.items[1]).toEqual(controlEntry("room", 5));
    });

    it("records applied state and snapshots, never moving backwards", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      for (let index = 1; index <= 3; index += 1) {
        await storage.rooms.appendControlEntry(controlEntry("room", index));
      }
      const rooms = storage.rooms;
      expect(await rooms.loadState("room")).toBeNull();
      expect(
        await rooms.recordApplied({
          roomId: "room",
          appliedIndex: 1,
          membershipChanges: [],
          snapshot: textBytes("state at 1"),
        }),
      ).toEqual({ kind: "recorded" });
      expect(
        await rooms.recordApplied({ roomId: "room", appliedIndex: 2, membershipChanges: [] }),
      ).toEqual({ kind: "recorded" });
      // Without a snapshot, the older snapshot stays.
      expect(await rooms.loadState("room")).toEqual({
        roomId: "room",
        appliedIndex: 2,
        snapshot: { logIndex: 1, state: textBytes("state at 1") },
      });
      expect(
        await rooms.recordApplied({ roomId: "room", appliedIndex: 2, membershipChanges: [] }),
      ).toEqual({ kind: "stale", appliedIndex: 2 });
      await rooms.recordApplied({
        roomId: "room",
        appliedIndex: 3,
        membershipChanges: [],
        snapshot: textBytes("state at 3"),
      });
      expect((await rooms.loadState("room"))?.snapshot).toEqual({
        logIndex: 3,
        state: textBytes("state at 3"),
      });
    });

    it("keeps the membership index for my-rooms and members-of-room queries", async () => {
      const storage = context.storage();
      const rooms = storage.rooms;
      for (const roomId of ["a", "b"]) {
        await createRoom(storage, roomId);
        for (let index = 1; index <= 2; index += 1) {
          await rooms.appendControlEntry(controlEntry(roomId, index));
        }
      }
      await rooms.recordApplied({
        roomId: "a",
        appliedIndex: 1,
        membershipChanges: [
          { userId: "alice@x", membership: "join" },
          { userId: "bob@y", membership: "invite" },
          { userId: "carol@z", membership: "join" },
        ],
      });
      await rooms.recordApplied({
        roomId: "b",
        appliedIndex: 1,
        membershipChanges: [{ userId: "alice@x", membership: "join" }],
      });
      await rooms.recordApplied({
        roomId: "a",
        appliedIndex: 2,
        membershipChanges: [
          { userId: "bob@y", membership: "join" },
          { userId: "carol@z", membership: "ban" },
        ],
      });
      const aliceRooms = await rooms.roomsOfUser("alice@x", ["join"]);
      expect(aliceRooms.map((member) => member.roomId)).toEqual(["a", "b"]);
      expect(await rooms.roomsOfUser("carol@z", ["join"])).toEqual([]);
      expect(await rooms.roomsOfUser("carol@z", ["ban", "leave"])).toEqual([
        { roomId: "a", userId: "carol@z", membership: "ban", sinceIndex: 2 },
      ]);
      const first = await rooms.membersOfRoom({ roomId: "a", memberships: ["join"], limit: 1 });
      expect(first).toEqual({
        items: [{ roomId: "a", userId: "alice@x", membership: "join", sinceIndex: 1 }],
        more: true,
      });
      const second = await rooms.membersOfRoom({
        roomId: "a",
        memberships: ["join"],
        afterUserId: "alice@x",
        limit: 1,
      });
      expect(second.items.map((member) => member.userId)).toEqual(["bob@y"]);
      expect(second.more).toBe(false);
    });
  });
}
