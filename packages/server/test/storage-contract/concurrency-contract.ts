// Stories for several homeserver processes sharing one database: each runs
// against two handles with their own connection pools. Backends that cannot be
// shared inside one process skip them here and test the same property with
// real processes instead (see test/storage/sqlite-processes.test.ts).

import { describe, expect, it } from "vitest";
import type { Storage, StoredEvent } from "../../src/index.ts";
import type { ContractContext } from "./contract.ts";
import {
  bytes,
  controlEntry,
  createAccount,
  createDevice,
  createRoom,
  newEvent,
} from "./fixtures.ts";

const writersPerHandle = 4;
const eventsPerWriter = 20;
const rooms = ["a", "b", "c"];

export function describeConcurrencyContract(context: ContractContext): void {
  describe("several processes on one database", () => {
    it("concurrent appends keep stream positions unique, gapless and increasing", async () => {
      const openAnother = secondHandleOpener(context);
      const first = context.storage();
      const second = await openAnother();
      for (const roomId of rooms) {
        await createRoom(first, roomId);
      }
      const writers = [first, second].flatMap((storage, handle) =>
        Array.from({ length: writersPerHandle }, async (_, writer) => {
          for (let index = 0; index < eventsPerWriter; index += 1) {
            const roomId = rooms[index % rooms.length] ?? "a";
            const event = newEvent(roomId, `${index}`, { senderDeviceId: `d${handle}-${writer}` });
            // Every write is retried once, as a client on a flaky link would.
            await storage.events.append(event);
            await storage.events.append(event);
          }
        }),
      );
      // A reader following the stream while it grows must never skip an event.
      const followed: StoredEvent[] = [];
      let writing = true;
      const done = Promise.all(writers).finally(() => {
        writing = false;
      });
      let cursor = 0;
      for (
        let round = 0;
        round < 10_000 && (writing || cursor < (await first.events.streamHead()));
        round += 1
      ) {
        const page = await second.events.readStream({
          roomIds: rooms,
          afterPosition: cursor,
          limit: 50,
        });
        followed.push(...page.events);
        cursor = page.throughPosition;
      }
      await done;

      const total = 2 * writersPerHandle * eventsPerWriter;
      expect(await first.events.streamHead()).toBe(total);
      const all = await first.events.readStream({ roomIds: rooms, afterPosition: 0, limit: 1000 });
      expect(all.events.map((event) => event.streamPosition)).toEqual(
        Array.from({ length: total }, (_, index) => index + 1),
      );
      for (const roomId of rooms) {
        const sequences = all.events
          .filter((event) => event.roomId === roomId)
          .map((event) => event.roomSequence);
        expect(sequences).toEqual(
          Array.from({ length: sequences.length }, (_, index) => index + 1),
        );
      }
      expect(followed.map((event) => event.streamPosition)).toEqual(
        all.events.map((event) => event.streamPosition),
      );
    });

    it("the same client id appended from two processes at once is stored once", async () => {
      const openAnother = secondHandleOpener(context);
      const first = context.storage();
      const second = await openAnother();
      await createRoom(first, "a");
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          (index % 2 === 0 ? first : second).events.append(newEvent("a", "retried")),
        ),
      );
      expect(attempts.filter((outcome) => outcome.kind === "appended")).toHaveLength(1);
      expect(new Set(attempts.map((outcome) => outcome.event.streamPosition))).toEqual(
        new Set([1]),
      );
      expect(await first.events.streamHead()).toBe(1);
    });

    it("two processes racing for the same control index: one wins, the other is told", async () => {
      const openAnother = secondHandleOpener(context);
      const first = context.storage();
      const second = await openAnother();
      await createRoom(first, "a");
      const outcomes = await Promise.all([
        first.rooms.appendControlEntry(controlEntry("a", 1)),
        second.rooms.appendControlEntry({ ...controlEntry("a", 1), entryHash: bytes(7) }),
      ]);
      expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(["appended", "conflict"]);
    });

    it("invite uses and queue positions stay exact under concurrent writers", async () => {
      const openAnother = secondHandleOpener(context);
      const first = context.storage();
      const second = await openAnother();
      const tokenHash = bytes(0x1e);
      await first.accounts.createInviteToken({
        tokenHash,
        usesLeft: 3,
        expiresAtMs: null,
        createdAtMs: 0,
      });
      const registrations = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          (index % 2 === 0 ? first : second).accounts.create({
            localName: `user${index}`,
            passwordHash: "h",
            createdAtMs: 1,
            inviteTokenHash: tokenHash,
          }),
        ),
      );
      expect(registrations.filter((outcome) => outcome.kind === "created")).toHaveLength(3);

      await createAccount(first, "alice");
      await createDevice(first, "alice", "phone");
      const queued = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          (index % 2 === 0 ? first : second).inboxes.enqueue({
            deviceId: "phone",
            itemId: `item-${index}`,
            itemKind: "invite",
            body: bytes(index),
            createdAtMs: 1,
            maxItems: 100,
          }),
        ),
      );
      const positions = queued.map((outcome) =>
        outcome.kind === "queued" ? outcome.item.queuePosition : 0,
      );
      expect(positions.sort((left, right) => left - right)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
    });
  });
}

function secondHandleOpener(context: ContractContext): () => Promise<Storage> {
  const openAnother = context.database().openAnother;
  if (openAnother === null)
    throw new Error("concurrency stories need a backend shared across handles");
  return openAnother;
}
