import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.ts";
import { bytes, createAccount, createDevice, startMs } from "./fixtures.ts";

export function describeAccountContract(context: ContractContext): void {
  describe("accounts", () => {
    it("creates an account once and refuses the name a second time", async () => {
      const accounts = context.storage().accounts;
      const created = await accounts.create({
        localName: "alice",
        passwordHash: "argon2id$alice",
        createdAtMs: startMs,
      });
      expect(created).toEqual({
        kind: "created",
        account: {
          localName: "alice",
          passwordHash: "argon2id$alice",
          createdAtMs: startMs,
          deactivatedAtMs: null,
        },
      });
      const again = await accounts.create({
        localName: "alice",
        passwordHash: "other",
        createdAtMs: startMs + 1,
      });
      expect(again).toEqual({ kind: "name-taken" });
      expect((await accounts.get("alice"))?.passwordHash).toBe("argon2id$alice");
      expect(await accounts.get("nobody")).toBeNull();
    });

    it("changes a password hash", async () => {
      const accounts = context.storage().accounts;
      await createAccount(context.storage(), "alice");
      expect(await accounts.setPasswordHash("alice", "new-hash")).toBe(true);
      expect(await accounts.setPasswordHash("nobody", "new-hash")).toBe(false);
      expect((await accounts.get("alice"))?.passwordHash).toBe("new-hash");
    });

    it("spends invite token uses one registration at a time", async () => {
      const accounts = context.storage().accounts;
      const tokenHash = bytes(0xaa, 0xbb);
      const token = { tokenHash, usesLeft: 2, expiresAtMs: startMs + 1000, createdAtMs: startMs };
      expect(await accounts.createInviteToken(token)).toBe(true);
      expect(await accounts.createInviteToken(token)).toBe(false);
      const register = (localName: string, createdAtMs = startMs) =>
        accounts.create({ localName, passwordHash: "h", createdAtMs, inviteTokenHash: tokenHash });
      expect((await register("alice")).kind).toBe("created");
      // A taken name does not cost a use.
      expect((await register("alice")).kind).toBe("name-taken");
      expect((await accounts.getInviteToken(tokenHash))?.usesLeft).toBe(1);
      expect((await register("bob")).kind).toBe("created");
      expect((await register("carol")).kind).toBe("invite-unavailable");
      expect(await accounts.get("carol")).toBeNull();
      expect((await accounts.getInviteToken(tokenHash))?.usesLeft).toBe(0);
    });

    it("refuses an expired or unknown invite token", async () => {
      const accounts = context.storage().accounts;
      const tokenHash = bytes(1);
      await accounts.createInviteToken({
        tokenHash,
        usesLeft: 5,
        expiresAtMs: startMs + 10,
        createdAtMs: startMs,
      });
      const late = await accounts.create({
        localName: "late",
        passwordHash: "h",
        createdAtMs: startMs + 10,
        inviteTokenHash: tokenHash,
      });
      expect(late.kind).toBe("invite-unavailable");
      const unknown = await accounts.create({
        localName: "stranger",
        passwordHash: "h",
        createdAtMs: startMs,
        inviteTokenHash: bytes(2),
      });
      expect(unknown.kind).toBe("invite-unavailable");
    });

    it("deactivating an account revokes its devices and ends their sessions", async () => {
      const storage = context.storage();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "alice-phone");
      const tokenHash = bytes(5, 5);
      await storage.devices.createSession({
        tokenHash,
        deviceId: "alice-phone",
        createdAtMs: startMs,
        expiresAtMs: startMs + 1000,
      });
      expect(await storage.accounts.deactivate("alice", startMs + 1)).toBe(true);
      expect(await storage.accounts.deactivate("alice", startMs + 2)).toBe(false);
      expect((await storage.accounts.get("alice"))?.deactivatedAtMs).toBe(startMs + 1);
      expect((await storage.devices.get("alice-phone"))?.revokedAtMs).toBe(startMs + 1);
      expect(await storage.devices.findSession(tokenHash, startMs + 2)).toBeNull();
      const newDevice = await storage.devices.create({
        deviceId: "alice-laptop",
        localName: "alice",
        identityRecord: bytes(1),
        attestation: bytes(2),
        recordSequence: 1,
        createdAtMs: startMs + 3,
      });
      expect(newDevice.kind).toBe("account-deactivated");
    });
  });
}
