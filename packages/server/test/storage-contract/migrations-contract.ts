import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.ts";
import { bytes, createRoom, newEvent, startMs } from "./fixtures.ts";

export function describeMigrationContract(context: ContractContext): void {
  describe("migrations", () => {
    it("reports every migration applied after migrating from empty", async () => {
      const status = await context.storage().migrations.status();
      expect(status.length).toBeGreaterThan(0);
      for (const migration of status) {
        expect(migration.appliedAtMs).not.toBeNull();
      }
    });

    it("applies nothing when already at the latest version", async () => {
      expect(await context.storage().migrations.migrateToLatest()).toEqual([]);
    });

    it("reverts to empty and migrates up again, in order", async () => {
      const storage = context.storage();
      await storage.migrations.migrateToEmpty();
      const pending = await storage.migrations.status();
      expect(pending.every((migration) => migration.appliedAtMs === null)).toBe(true);
      const applied = await storage.migrations.migrateToLatest();
      expect(applied).toEqual(pending.map((migration) => migration.name));
      // The schema works after the round trip.
      await createRoom(storage, "room-after-migration");
      const outcome = await storage.events.append(newEvent("room-after-migration", "one"));
      expect(outcome.kind).toBe("appended");
    });

    it("stores the server's signing keys so a restart keeps its identity", async () => {
      const keys = context.storage().serverKeys;
      const key = {
        keyId: "ed25519:a",
        publicKey: bytes(1, 2, 3),
        secretSeed: new Uint8Array(32).fill(7),
        validFromMs: startMs,
        validUntilMs: null,
      };
      expect(await keys.insert(key)).toBe(true);
      expect(await keys.insert({ ...key, publicKey: bytes(9) })).toBe(false);
      const later = { ...key, keyId: "ed25519:b", validFromMs: startMs + 10 };
      expect(await keys.insert(later)).toBe(true);
      expect((await keys.current(startMs + 5))?.keyId).toBe("ed25519:a");
      expect((await keys.current(startMs + 20))?.keyId).toBe("ed25519:b");
      expect(await keys.current(startMs - 1)).toBeNull();
      expect(await keys.retire("ed25519:b", startMs + 30)).toBe(true);
      expect(await keys.retire("ed25519:unknown", startMs)).toBe(false);
      expect((await keys.current(startMs + 30))?.keyId).toBe("ed25519:a");
      const listed = await keys.list();
      expect(listed.map((stored) => stored.keyId)).toEqual(["ed25519:b", "ed25519:a"]);
      expect(listed[1]).toEqual(key);
    });
  });
}
