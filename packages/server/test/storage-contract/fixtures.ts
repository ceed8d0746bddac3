// Small builders for the contract suite's stories. Values are arbitrary but
// valid; each test names what matters to it.

import type { NewEvent, Storage } from "../../src/index.ts";

export const startMs = 1_700_000_000_000;

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function textBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function newEvent(
  roomId: string,
  clientEventId: string,
  overrides: Partial<NewEvent> = {},
): NewEvent {
  return {
    roomId,
    senderUserId: "alice@localhost",
    senderDeviceId: "alice-phone",
    clientEventId,
    contentType: "text/plain",
    body: textBytes(`${roomId}/${clientEventId}`),
    signature: bytes(1, 2, 3),
    controlIndex: 1,
    acceptedAtMs: startMs,
    ...overrides,
  };
}

export async function createRoom(storage: Storage, roomId: string): Promise<void> {
  const outcome = await storage.rooms.create({
    roomId,
    kind: "plain",
    contentType: "text/plain",
    createdAtMs: startMs,
  });
  if (outcome.kind !== "created") {
    throw new Error(`room ${roomId} already existed`);
  }
}

export async function createAccount(storage: Storage, localName: string): Promise<void> {
  const outcome = await storage.accounts.create({
    localName,
    passwordHash: `hash-of-${localName}`,
    createdAtMs: startMs,
  });
  if (outcome.kind !== "created") {
    throw new Error(`account ${localName}: ${outcome.kind}`);
  }
}

export async function createDevice(
  storage: Storage,
  localName: string,
  deviceId: string,
): Promise<void> {
  const outcome = await storage.devices.create({
    deviceId,
    localName,
    identityRecord: textBytes(`record of ${deviceId}`),
    attestation: textBytes(`attestation of ${deviceId}`),
    recordSequence: 1,
    createdAtMs: startMs,
  });
  if (outcome.kind !== "created") {
    throw new Error(`device ${deviceId}: ${outcome.kind}`);
  }
}

/** A chained control entry: index i names the hash of entry i-1. */
export function controlEntry(roomId: string, logIndex: number) {
  return {
    roomId,
    logIndex,
    entry: textBytes(`entry ${logIndex}`),
    entryHash: bytes(logIndex, 0xee),
    previousHash: logIndex === 1 ? null : bytes(logIndex - 1, 0xee),
  };
}
