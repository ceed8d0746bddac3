import { nobleSignatureProvider, parseRoomId, parseUserId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { generateDeviceKeys } from "../device/device-keys.ts";
import { MemoryStore, writeChanges } from "../store/client-store.ts";
import { MlsContext } from "./mls-context.ts";
import { MlsRecords } from "./mls-records.ts";
import { keptPlaintextsMax, PlaintextCache } from "./plaintext-cache.ts";

const roomId = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");

function context(store: MemoryStore): MlsContext {
  const keys = generateDeviceKeys(nobleSignatureProvider);
  return new MlsContext({
    identity: { user: parseUserId("alice@a.example"), keyPair: keys.keyPair },
    deviceId: keys.deviceId,
    records: new MlsRecords(store),
    options: {},
    signatureProvider: nobleSignatureProvider,
    nowMs: () => 0,
  });
}

const text = (value: string) => ({
  contentType: "text/plain",
  body: new TextEncoder().encode(value),
});

describe("the plaintext cache", () => {
  it("keeps the newest plaintexts per room, sealed in the store, across a restart", async () => {
    const store = new MemoryStore();
    const cache = new PlaintextCache(context(store));
    const extra = 3;
    for (let index = 0; index < keptPlaintextsMax + extra; index += 1) {
      await cache.put(roomId, `device/${index}`, text(`message ${index}`));
    }
    await writeChanges(store, await cache.takeChanges());
    // Nothing left to write until something changes.
    expect((await cache.takeChanges()).size).toBe(0);
    const record = await store.get(`parley.mls.plaintexts.${roomId}`);
    expect(record).toBeDefined();
    expect(Buffer.from(record ?? "", "base64url").includes(Buffer.from("message 1"))).toBe(false);

    // A new process: same store, same state key (kept in the store).
    const restarted = new PlaintextCache(context(store));
    expect(await restarted.get(roomId, "device/0")).toBeUndefined();
    expect(await restarted.get(roomId, `device/${extra - 1}`)).toBeUndefined();
    expect(await restarted.get(roomId, `device/${extra}`)).toEqual(text(`message ${extra}`));
    const newest = keptPlaintextsMax + extra - 1;
    expect(await restarted.get(roomId, `device/${newest}`)).toEqual(text(`message ${newest}`));
  });
});
