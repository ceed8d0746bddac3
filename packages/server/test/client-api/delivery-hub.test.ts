// The delivery hub with fake sockets: coalescing, shared frames, slow
// receivers, catch-up from storage, and rooms leaving a reader at once.

import { Writable } from "node:stream";
import type { DeviceId, UserId } from "@parley/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeliveryHub } from "../../src/http/stream/delivery-hub.ts";
import type { StreamSocket } from "../../src/http/stream/stream-connection.ts";
import { streamBufferedBytesMax } from "../../src/limits.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { NewEvent, StoredEvent } from "../../src/storage/records.ts";
import type { Storage } from "../../src/storage/storage.ts";

const silent = createLogger(
  "silent",
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
);

class FakeSocket implements StreamSocket {
  readonly frames: Array<string | Buffer> = [];
  bufferedAmount = 0;
  closedWith: number | undefined;

  send(data: string | Buffer): void {
    this.frames.push(data);
  }

  close(code: number): void {
    this.closedWith = code;
  }

  /** The events frames received, parsed. */
  events(): Array<{ through: number; events: Array<{ position: number; roomId: string }> }> {
    return this.frames
      .map((frame) => JSON.parse(frame.toString()) as { type: string })
      .filter((frame) => frame.type === "events") as never;
  }
}

let storage: Storage;
let hub: DeliveryHub;

const room = "!AAAAAAAAAAAAAAAAAAAAAA";
const otherRoom = "!BBBBBBBBBBBBBBBBBBBBBA";

async function device(name: string, rooms: readonly string[]) {
  await storage.accounts.create({ localName: name, passwordHash: "x", createdAtMs: 1 });
  const deviceId = `${name}-device`;
  await storage.devices.create({
    deviceId,
    localName: name,
    identityRecord: new Uint8Array(1),
    attestation: new Uint8Array(1),
    recordSequence: 1,
    createdAtMs: 1,
  });
  const userId = `${name}@chat.test` as UserId;
  for (const roomId of rooms) {
    const index = ((await storage.rooms.lastControlEntry(roomId))?.logIndex ?? 0) + 1;
    const previous = await storage.rooms.lastControlEntry(roomId);
    await storage.rooms.appendControlEntry({
      roomId,
      logIndex: index,
      entry: new Uint8Array([index]),
      entryHash: new Uint8Array(32).fill(index),
      previousHash: previous?.entryHash ?? null,
    });
    await storage.rooms.recordApplied({
      roomId,
      appliedIndex: index,
      membershipChanges: [{ userId, membership: "join" }],
    });
  }
  return { userId, deviceId: deviceId as DeviceId, sessionKey: `${name}-session` };
}

let clientCounter = 0;
async function append(
  roomId: string,
  count: number,
  acceptedAtMs = Date.now(),
): Promise<StoredEvent[]> {
  const events: NewEvent[] = Array.from({ length: count }, () => {
    clientCounter += 1;
    return {
      roomId,
      senderUserId: "sender@chat.test",
      senderDeviceId: "sender-device",
      clientEventId: `m${clientCounter}`,
      contentType: "text/plain",
      body: new Uint8Array([1, 2, 3]),
      signature: new Uint8Array(64),
      controlIndex: 1,
      acceptedAtMs,
    };
  });
  const outcomes = await storage.events.appendBatch(events);
  return outcomes.map((outcome) => outcome.event);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(async () => {
  storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  await storage.migrations.migrateToLatest();
  for (const roomId of [room, otherRoom]) {
    await storage.rooms.create({
      roomId,
      kind: "plain",
      contentType: "text/plain",
      createdAtMs: 1,
    });
  }
  hub = new DeliveryHub({
    storage,
    serverName: () => "example.org",
    nowMs: () => Date.now(),
    retention: { maxAgeMs: 60_000_000, maxEvents: 10_000 },
    logger: silent,
    metrics: createMetrics(),
  });
  await hub.start();
});

afterEach(async () => {
  await hub.close();
  await storage.close();
});

describe("delivery hub", () => {
  it("coalesces what is pending for a receiver into one frame, and shares identical frames", async () => {
    const alice = await device("alice", [room]);
    const bob = await device("bob", [room]);
    const aliceSocket = new FakeSocket();
    const bobSocket = new FakeSocket();
    await hub.attach(aliceSocket, alice);
    await hub.attach(bobSocket, bob);
    hub.publish(await append(room, 3));
    hub.publish(await append(room, 2));
    await nextTurn();
    const [frame] = aliceSocket.events();
    expect(aliceSocket.events()).toHaveLength(1);
    expect(frame?.events.map((event) => event.position)).toEqual([1, 2, 3, 4, 5]);
    expect(frame?.through).toBe(5);
    // The same bytes went to both receivers: encoded once.
    expect(bobSocket.frames.at(-1)).toBe(aliceSocket.frames.at(-1));
  });

  it("sends a receiver only the rooms it reads, and stops a room the moment it leaves", async () => {
    const alice = await device("alice", [room]);
    const socket = new FakeSocket();
    await hub.attach(socket, alice);
    hub.publish([...(await append(otherRoom, 2)), ...(await append(room, 1))]);
    await nextTurn();
    expect(socket.events().flatMap((frame) => frame.events.map((event) => event.roomId))).toEqual([
      room,
    ]);
    hub.readerChanged(room, alice.userId, false);
    hub.publish(await append(room, 1));
    await nextTurn();
    expect(socket.events()).toHaveLength(1);
  });

  it("holds frames back from a full socket, then catches it up in one frame", async () => {
    const alice = await device("alice", [room]);
    const socket = new FakeSocket();
    await hub.attach(socket, alice);
    socket.bufferedAmount = streamBufferedBytesMax + 1;
    hub.publish(await append(room, 4));
    await nextTurn();
    expect(socket.events()).toHaveLength(0);
    socket.bufferedAmount = 0;
    // The hub looks at held-back sockets every few milliseconds; a loaded machine may be slower.
    for (let waited = 0; waited < 2000 && socket.events().length === 0; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(socket.events().map((frame) => frame.events.length)).toEqual([4]);
  });

  it("sends a new socket what its device missed, from storage, then live events", async () => {
    const alice = await device("alice", [room]);
    await append(room, 3); // stored before the socket exists, never published to it
    const socket = new FakeSocket();
    await hub.attach(socket, alice);
    hub.publish(await append(room, 1));
    await nextTurn();
    const positions = socket
      .events()
      .flatMap((frame) => frame.events.map((event) => event.position));
    expect(positions).toEqual([1, 2, 3, 4]);
  });

  it("tells a device back from a long absence what it missed instead of replaying it", async () => {
    const alice = await device("alice", [room]);
    await append(room, 3, 1); // accepted in 1970: far beyond retention
    await append(room, 1);
    const socket = new FakeSocket();
    await hub.attach(socket, alice);
    const frames = socket.frames.map((frame) => JSON.parse(frame.toString()) as { type: string });
    expect(frames[1]).toEqual({ type: "missed", count: 3, through: 3 });
    expect(socket.events().flatMap((frame) => frame.events.map((event) => event.position))).toEqual(
      [4],
    );
  });

  it("writes the newest acknowledgement when a socket closes, and only forward", async () => {
    const alice = await device("alice", [room]);
    const socket = new FakeSocket();
    const connection = await hub.attach(socket, alice);
    hub.publish(await append(room, 2));
    await nextTurn();
    expect(hub.acknowledgeStream(connection, 99)).toBe(false);
    expect(hub.acknowledgeStream(connection, 2)).toBe(true);
    hub.detach(connection);
    await hub.close();
    expect((await storage.inboxes.cursor(alice.deviceId))?.streamPosition).toBe(2);
  });
});
