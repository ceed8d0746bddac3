import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.ts";
import {
  bytes,
  createAccount,
  createDevice,
  createRoom,
  newEvent,
  startMs,
  textBytes,
} from "./fixtures.ts";

export function describeDeviceContract(context: ContractContext): void {
  describe("devices and sessions", () => {
    it("creates a device whose inbox starts at the current stream head", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createRoom(storage, "room");
      await storage.events.append(newEvent("room", "before-the-device"));
      const created = await storage.devices.create({
        deviceId: "alice-phone",
        localName: "alice",
        identityRecord: textBytes("record"),
        attestation: textBytes("attestation"),
        recordSequence: 3,
        createdAtMs: startMs,
      });
      expect(created).toEqual({
        kind: "created",
        device: {
          deviceId: "alice-phone",
          localName: "alice",
          identityRecord: textBytes("record"),
          attestation: textBytes("attestation"),
          recordSequence: 3,
          createdAtMs: startMs,
          revokedAtMs: null,
        },
      });
      expect(await storage.devices.get("alice-phone")).toEqual(
        created.kind === "created" ? created.device : null,
      );
      expect(await storage.inboxes.cursor("alice-phone")).toEqual({
        deviceId: "alice-phone",
        streamPosition: 1,
        queuePosition: 0,
      });
    });

    it("refuses a second device with the same id and a device for no account", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      const input = {
        deviceId: "phone",
        localName: "alice",
        identityRecord: bytes(1),
        attestation: bytes(2),
        recordSequence: 1,
        createdAtMs: startMs,
      };
      expect((await storage.devices.create(input)).kind).toBe("device-exists");
      const orphan = await storage.devices.create({ ...input, deviceId: "x", localName: "nobody" });
      expect(orphan.kind).toBe("unknown-account");
    });

    it("lists an account's devices oldest first", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createAccount(storage, "bob");
      await createDevice(storage, "alice", "b-second");
      await createDevice(storage, "bob", "bob-phone");
      await storage.devices.create({
        deviceId: "a-later",
        localName: "alice",
        identityRecord: bytes(1),
        attestation: bytes(1),
        recordSequence: 1,
        createdAtMs: startMs + 5,
      });
      const listed = await storage.devices.listForAccount("alice");
      expect(listed.map((device) => device.deviceId)).toEqual(["b-second", "a-later"]);
    });

    it("replaces an identity record only with a newer sequence", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      const update = (recordSequence: number, deviceId = "phone") =>
        storage.devices.updateRecord({
          deviceId,
          identityRecord: textBytes(`record ${recordSequence}`),
          attestation: textBytes(`attestation ${recordSequence}`),
          recordSequence,
        });
      expect(await update(2)).toEqual({ kind: "updated" });
      expect(await update(2)).toEqual({ kind: "stale", storedSequence: 2 });
      expect(await update(1)).toEqual({ kind: "stale", storedSequence: 2 });
      expect(await update(3, "unknown")).toEqual({ kind: "unknown-device" });
      const stored = await storage.devices.get("phone");
      expect(stored?.identityRecord).toEqual(textBytes("record 2"));
      expect(stored?.recordSequence).toBe(2);
      await storage.devices.revoke("phone", startMs + 1);
      expect(await update(9)).toEqual({ kind: "revoked" });
    });

    it("finds a live session by token hash and never after expiry", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      const tokenHash = bytes(0x01, 0x02);
      const created = await storage.devices.createSession({
        tokenHash,
        deviceId: "phone",
        createdAtMs: startMs,
        expiresAtMs: startMs + 100,
      });
      expect(created).toBe(true);
      expect(await storage.devices.findSession(tokenHash, startMs + 50)).toEqual({
        tokenHash,
        deviceId: "phone",
        localName: "alice",
        createdAtMs: startMs,
        lastSeenAtMs: startMs,
        expiresAtMs: startMs + 100,
      });
      expect(await storage.devices.findSession(tokenHash, startMs + 100)).toBeNull();
      expect(await storage.devices.findSession(bytes(9), startMs)).toBeNull();
    });

    it("moves last-seen forward only", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      const tokenHash = bytes(3);
      await storage.devices.createSession({
        tokenHash,
        deviceId: "phone",
        createdAtMs: startMs,
        expiresAtMs: startMs + 1000,
      });
      await storage.devices.touchSession(tokenHash, startMs + 20);
      await storage.devices.touchSession(tokenHash, startMs + 10);
      const session = await storage.devices.findSession(tokenHash, startMs + 30);
      expect(session?.lastSeenAtMs).toBe(startMs + 20);
    });

    it("revoking a device deletes its sessions and queued items at once", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      await createDevice(storage, "alice", "laptop");
      const phoneToken = bytes(1);
      const laptopToken = bytes(2);
      for (const [tokenHash, deviceId] of [
        [phoneToken, "phone"],
        [laptopToken, "laptop"],
      ] as const) {
        await storage.devices.createSession({
          tokenHash,
          deviceId,
          createdAtMs: startMs,
          expiresAtMs: startMs + 1000,
        });
      }
      await storage.inboxes.enqueue({
        deviceId: "phone",
        itemId: "welcome-1",
        itemKind: "welcome",
        body: bytes(7),
        createdAtMs: startMs,
        maxItems: 10,
      });
      expect(await storage.devices.revoke("phone", startMs + 1)).toBe(true);
      expect(await storage.devices.revoke("phone", startMs + 2)).toBe(false);
      expect(await storage.devices.revoke("unknown", startMs + 2)).toBe(false);
      expect(await storage.devices.findSession(phoneToken, startMs + 2)).toBeNull();
      expect(await storage.devices.deleteSession(phoneToken)).toBe(false);
      expect(await storage.devices.findSession(laptopToken, startMs + 2)).not.toBeNull();
      expect(await storage.inboxes.queueDepth("phone")).toBe(0);
      const refused = await storage.devices.createSession({
        tokenHash: bytes(4),
        deviceId: "phone",
        createdAtMs: startMs + 3,
        expiresAtMs: startMs + 1000,
      });
      expect(refused).toBe(false);
    });

    it("logs one session out and sweeps expired sessions in bounded steps", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      for (let index = 0; index < 5; index += 1) {
        await storage.devices.createSession({
          tokenHash: bytes(index),
          deviceId: "phone",
          createdAtMs: startMs,
          expiresAtMs: startMs + index * 10,
        });
      }
      expect(await storage.devices.deleteSession(bytes(4))).toBe(true);
      // Sessions 0..3 expire at +0, +10, +20, +30; at +25 three are expired.
      expect(await storage.devices.deleteExpiredSessions(startMs + 25, 2)).toBe(2);
      expect(await storage.devices.deleteExpiredSessions(startMs + 25, 2)).toBe(1);
      expect(await storage.devices.deleteExpiredSessions(startMs + 25, 2)).toBe(0);
      expect(await storage.devices.findSession(bytes(3), startMs + 25)).not.toBeNull();
    });

    it("reads the stream cursors of the live devices of some accounts", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createAccount(storage, "bob");
      await createAccount(storage, "carol");
      await createRoom(storage, "room");
      await createDevice(storage, "alice", "alice-phone");
      await storage.events.append(newEvent("room", "one"));
      await createDevice(storage, "alice", "alice-laptop");
      await createDevice(storage, "bob", "bob-phone");
      await createDevice(storage, "carol", "carol-phone");
      await storage.events.append(newEvent("room", "two"));
      expect((await storage.inboxes.acknowledgeStream("bob-phone", 2)).kind).toBe("advanced");
      expect(await storage.devices.revoke("alice-laptop", startMs + 1)).toBe(true);
      const cursors = await storage.devices.streamCursorsOf(["alice", "bob", "nobody"]);
      const sorted = [...cursors].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
      expect(sorted).toEqual([
        { deviceId: "alice-phone", localName: "alice", streamPosition: 0 },
        { deviceId: "bob-phone", localName: "bob", streamPosition: 2 },
      ]);
      expect(await storage.devices.streamCursorsOf([])).toEqual([]);
      const tooMany = Array.from({ length: 1001 }, (_, index) => `user${index}`);
      await expect(storage.devices.streamCursorsOf(tooMany)).rejects.toThrow(/at most 1000/);
    });
  });
}
