import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.ts";
import { bytes, createAccount, createDevice, createRoom, startMs } from "./fixtures.ts";

export function describeAdministrationContract(context: ContractContext): void {
  describe("administration", () => {
    it("lists invite tokens page by page and deletes one so it cannot be spent", async () => {
      const storage = context.storage();
      for (const first of [3, 1, 2]) {
        await storage.accounts.createInviteToken({
          tokenHash: bytes(first, 0xff),
          usesLeft: first,
          expiresAtMs: first === 2 ? startMs + 5 : null,
          createdAtMs: startMs,
        });
      }
      const first = await storage.administration.listInviteTokens({ limit: 2 });
      expect(first.more).toBe(true);
      expect(first.items.map((token) => token.usesLeft)).toEqual([1, 2]);
      expect(first.items[1]?.expiresAtMs).toBe(startMs + 5);
      const second = await storage.administration.listInviteTokens({
        afterTokenHash: bytes(2, 0xff),
        limit: 2,
      });
      expect(second).toEqual({
        items: [
          { tokenHash: bytes(3, 0xff), usesLeft: 3, expiresAtMs: null, createdAtMs: startMs },
        ],
        more: false,
      });

      expect(await storage.administration.deleteInviteToken(bytes(3, 0xff))).toBe(true);
      expect(await storage.administration.deleteInviteToken(bytes(3, 0xff))).toBe(false);
      const spent = await storage.accounts.create({
        localName: "late",
        passwordHash: "h",
        createdAtMs: startMs,
        inviteTokenHash: bytes(3, 0xff),
      });
      expect(spent.kind).toBe("invite-unavailable");
    });

    it("lists accounts by name with their live devices", async () => {
      const storage = context.storage();
      for (const name of ["carol", "alice", "bob"]) await createAccount(storage, name);
      await createDevice(storage, "alice", "alice-phone");
      await createDevice(storage, "alice", "alice-laptop");
      await createDevice(storage, "bob", "bob-phone");
      await storage.devices.revoke("alice-laptop", startMs + 1);
      await storage.accounts.deactivate("bob", startMs + 2);

      const first = await storage.administration.listAccounts({ limit: 2 });
      expect(first).toEqual({
        items: [
          { localName: "alice", createdAtMs: startMs, deactivatedAtMs: null, liveDevices: 1 },
          { localName: "bob", createdAtMs: startMs, deactivatedAtMs: startMs + 2, liveDevices: 0 },
        ],
        more: true,
      });
      const rest = await storage.administration.listAccounts({ afterLocalName: "bob", limit: 2 });
      expect(rest.items.map((account) => account.localName)).toEqual(["carol"]);
      expect(rest.more).toBe(false);
    });

    it("lists rooms by id with their joined member counts", async () => {
      const storage = context.storage();
      await createRoom(storage, "room-b");
      await createRoom(storage, "room-a");
      await storage.rooms.appendControlEntry({
        roomId: "room-a",
        logIndex: 1,
        entry: bytes(1),
        entryHash: bytes(1, 0xee),
        previousHash: null,
      });
      await storage.rooms.recordApplied({
        roomId: "room-a",
        appliedIndex: 1,
        membershipChanges: [
          { userId: "alice@localhost", membership: "join" },
          { userId: "bob@localhost", membership: "join" },
          { userId: "carol@localhost", membership: "invite" },
        ],
      });
      const page = await storage.administration.listRooms({ limit: 10 });
      expect(page.more).toBe(false);
      expect(page.items).toEqual([
        {
          roomId: "room-a",
          kind: "plain",
          contentType: "text/plain",
          createdAtMs: startMs,
          lastEventSequence: 0,
          joinedMembers: 2,
        },
        {
          roomId: "room-b",
          kind: "plain",
          contentType: "text/plain",
          createdAtMs: startMs,
          lastEventSequence: 0,
          joinedMembers: 0,
        },
      ]);
      const after = await storage.administration.listRooms({ afterRoomId: "room-a", limit: 1 });
      expect(after.items.map((room) => room.roomId)).toEqual(["room-b"]);
    });

    it("blocks a server once, keeps the first block, lists and unblocks", async () => {
      const administration = context.storage().administration;
      const block = { serverName: "spam.example", reason: "floods", blockedAtMs: startMs };
      expect(await administration.blockServer(block)).toEqual({ kind: "blocked", block });
      expect(
        await administration.blockServer({ ...block, reason: "again", blockedAtMs: startMs + 9 }),
      ).toEqual({ kind: "already-blocked", block });
      await administration.blockServer({
        serverName: "abuse.example",
        reason: "",
        blockedAtMs: startMs + 1,
      });
      const listed = await administration.listServerBlocks({ limit: 1 });
      expect(listed.items.map((item) => item.serverName)).toEqual(["abuse.example"]);
      expect(listed.more).toBe(true);
      const rest = await administration.listServerBlocks({
        afterServerName: "abuse.example",
        limit: 10,
      });
      expect(rest).toEqual({ items: [block], more: false });

      expect(await administration.unblockServer("spam.example")).toBe(true);
      expect(await administration.unblockServer("spam.example")).toBe(false);
      expect((await administration.listServerBlocks({ limit: 10 })).items).toHaveLength(1);
    });
  });
}
