/**
 * The shared contract suite every FederationStorage must pass (the reference
 * MemoryFederationStorage and the homeserver's database storage on SQLite
 * and PostgreSQL). Each case writes, restarts the storage (for a durable
 * storage: makes the writes durable and opens it again from the disk), and
 * checks that the restarted storage answers as the original did.
 *
 *   import { describeFederationStorageContract } from "@parley/federation/storage-contract";
 *   describeFederationStorageContract("SQLite", { open, restart });
 *
 * The Raft group storages additionally pass the Raft package's own contract
 * (`@parley/raft/storage-contract`).
 */
import { parseServerName, parseUserId, type RoomId, roomIdFromBytes } from "@parley/protocol";
import { EMPTY_CONF_STATE, type NodeId, nodeId } from "@parley/raft";
import { describe, expect, it } from "vitest";
import type { ControlRecordAt, ControlSnapshot } from "../frames/frame.ts";
import type { RoomMessageStore } from "../message-lane/message-store.ts";
import type { MessageVerdict, StoredMessage } from "../message-lane/stamped-message.ts";
import type { FederationStorage } from "./federation-storage.ts";

export interface FederationStorageHarness {
  /** A fresh, empty storage. */
  open(): Promise<FederationStorage>;
  /**
   * What a server finds after a restart: a durable storage makes every write
   * so far durable and opens again from its disk; the in-memory reference
   * (which plays the disk in the simulator) returns itself.
   */
  restart(storage: FederationStorage): Promise<FederationStorage>;
}

/** A room id made of one repeated byte, so tests can name several. */
export function contractRoom(byte: number): RoomId {
  return roomIdFromBytes(new Uint8Array(16).fill(byte));
}

const alice = parseUserId("alice@a.example");

export function contractMessage(
  room: RoomId,
  origin: NodeId,
  sequence: number,
  verdict: MessageVerdict = "allowed",
  body: Uint8Array = new Uint8Array([sequence % 256]),
): StoredMessage {
  return {
    message: {
      room,
      origin,
      sequence,
      controlIndex: sequence,
      acceptedAtMs: 1_700_000_000_000 + sequence,
      sender: alice,
      clientMessageId: `message-${origin}-${sequence}`,
      body,
    },
    verdict,
  };
}

function controlSnapshot(index: number): ControlSnapshot {
  return {
    index,
    chainHash: new Uint8Array(32).fill(index % 256),
    state: new Uint8Array([1, 2, index % 256]),
    incarnations: [
      [parseServerName("a.example"), 1],
      [parseServerName("b.example"), index],
    ],
  };
}

function controlRecord(index: number): ControlRecordAt {
  return {
    index,
    chainHash: new Uint8Array(32).fill((index * 7) % 256),
    record: new Uint8Array([index % 256, 9]),
  };
}

/** Everything a message store answers, as plain data. */
export function messageStoreView(store: RoomMessageStore) {
  const origins = store.origins();
  return {
    size: store.size,
    origins,
    perOrigin: origins.map((origin) => ({
      origin,
      contiguous: store.contiguous(origin),
      ahead: store.ahead(origin),
      last: store.last(origin),
      all: store.after(origin, 0, Number.MAX_SAFE_INTEGER),
    })),
    all: [...store.all()].sort(
      (left, right) =>
        left.message.origin.localeCompare(right.message.origin) ||
        left.message.sequence - right.message.sequence,
    ),
  };
}

const originA = nodeId("a.example#1");
const originB = nodeId("b.example#4");

export function describeFederationStorageContract(
  name: string,
  harness: FederationStorageHarness,
): void {
  describe(`FederationStorage contract: ${name}`, () => {
    it("starts empty", async () => {
      const storage = await harness.open();
      expect(storage.rooms()).toEqual([]);
      expect(storage.loadRoom(contractRoom(1))).toBeUndefined();
      expect(storage.leafLog(contractRoom(1))).toEqual({ snapshot: null, records: [] });
      expect(messageStoreView(storage.messages(contractRoom(1))).size).toBe(0);
      expect(storage.groups.open(contractRoom(1), originA).lastIndex()).toBe(0);
    });

    it("keeps room records, the last one saved per room, listed in order", async () => {
      const storage = await harness.open();
      const [first, second] = [contractRoom(2), contractRoom(1)];
      storage.saveRoom(first, { contacts: [], node: null, retiredIncarnation: 0 });
      const record = {
        contacts: [parseServerName("b.example"), parseServerName("a.example")],
        node: originA,
        retiredIncarnation: 3,
      };
      storage.saveRoom(first, record);
      storage.saveRoom(second, { contacts: [], node: null, retiredIncarnation: 7 });
      const restarted = await harness.restart(storage);
      expect(restarted.rooms()).toEqual([second, first].sort());
      expect(restarted.loadRoom(first)).toEqual(record);
      expect(restarted.loadRoom(second)?.retiredIncarnation).toBe(7);
    });

    it("keeps a leaf's snapshot and the records after it; a snapshot replaces them", async () => {
      const storage = await harness.open();
      const room = contractRoom(3);
      storage.appendLeafRecord(room, controlRecord(1));
      storage.appendLeafRecord(room, controlRecord(2));
      expect(storage.leafLog(room).records).toHaveLength(2);
      storage.saveLeafSnapshot(room, controlSnapshot(2));
      expect(storage.leafLog(room)).toEqual({ snapshot: controlSnapshot(2), records: [] });
      storage.appendLeafRecord(room, controlRecord(3));
      storage.appendLeafRecord(room, controlRecord(4));
      const restarted = await harness.restart(storage);
      expect(restarted.leafLog(room)).toEqual({
        snapshot: controlSnapshot(2),
        records: [controlRecord(3), controlRecord(4)],
      });
      expect(restarted.leafLog(contractRoom(4))).toEqual({ snapshot: null, records: [] });
    });

    it("keeps each room's newest certificate, replaced by the next one saved", async () => {
      const storage = await harness.open();
      const [room, other] = [contractRoom(6), contractRoom(7)];
      expect(storage.certificate(room)).toBeNull();
      const signature = (byte: number) => new Uint8Array(64).fill(byte);
      storage.saveCertificate(room, {
        index: 3,
        chainHash: new Uint8Array(32).fill(3),
        signatures: [[parseServerName("a.example"), signature(1)]],
      });
      const newer = {
        index: 9,
        chainHash: new Uint8Array(32).fill(9),
        signatures: [
          [parseServerName("a.example"), signature(2)],
          [parseServerName("b.example"), signature(3)],
        ] as const,
      };
      storage.saveCertificate(room, newer);
      expect(storage.certificate(room)).toEqual(newer);
      const restarted = await harness.restart(storage);
      expect(restarted.certificate(room)).toEqual(newer);
      expect(restarted.certificate(other)).toBeNull();
    });

    it("stores a message once per id and answers the marks from what it holds", async () => {
      const storage = await harness.open();
      const room = contractRoom(5);
      const store = storage.messages(room);
      expect(store.put(contractMessage(room, originA, 1))).toBe(true);
      expect(store.put(contractMessage(room, originA, 1, "refused", new Uint8Array([9])))).toBe(
        false,
      );
      for (const sequence of [2, 4, 6, 7]) store.put(contractMessage(room, originA, sequence));
      store.put(contractMessage(room, originB, 2, "refused"));
      const restarted = await harness.restart(storage);
      const reread = restarted.messages(room);
      expect(reread.size).toBe(6);
      expect(reread.origins()).toEqual([originA, originB]);
      expect(reread.get({ origin: originA, sequence: 1 })).toEqual(
        contractMessage(room, originA, 1),
      );
      expect(reread.get({ origin: originA, sequence: 3 })).toBeUndefined();
      expect(reread.contiguous(originA)).toBe(2);
      expect(reread.ahead(originA)).toEqual([4, 6, 7]);
      expect(reread.contiguous(originB)).toBe(0);
      expect(reread.ahead(originB)).toEqual([2]);
      expect(reread.last(originA)).toEqual(contractMessage(room, originA, 7));
      expect(reread.last(originB)?.verdict).toBe("refused");
      expect(reread.after(originA, 1, 2).map((stored) => stored.message.sequence)).toEqual([2, 4]);
      expect(reread.after(originA, 4, 128).map((stored) => stored.message.sequence)).toEqual([
        6, 7,
      ]);
      expect(reread.after(originA, 7, 128)).toEqual([]);
      expect(reread.after(nodeId("c.example#1"), 0, 128)).toEqual([]);
      expect([...reread.all()]).toHaveLength(6);
      expect(messageStoreView(restarted.messages(contractRoom(6))).size).toBe(0);
    });

    it("keeps rooms' messages apart", async () => {
      const storage = await harness.open();
      const [one, two] = [contractRoom(7), contractRoom(8)];
      storage.messages(one).put(contractMessage(one, originA, 1));
      storage.messages(two).put(contractMessage(two, originA, 1, "refused"));
      storage.messages(two).put(contractMessage(two, originA, 2));
      const restarted = await harness.restart(storage);
      expect(restarted.messages(one).size).toBe(1);
      expect(restarted.messages(two).contiguous(originA)).toBe(2);
      expect(restarted.messages(one).get({ origin: originA, sequence: 1 })?.verdict).toBe(
        "allowed",
      );
    });

    it("gives each group its own Raft storage, the same one each time, until destroyed", async () => {
      const storage = await harness.open();
      const room = contractRoom(9);
      const group = storage.groups.open(room, originA);
      expect(storage.groups.open(room, originA)).toBe(group);
      group.applySnapshot({
        metadata: { index: 1, term: 1, confState: { ...EMPTY_CONF_STATE, voters: [originA] } },
        data: new Uint8Array([5]),
      });
      group.append([{ type: "normal", index: 2, term: 1, data: new Uint8Array([6]) }]);
      group.setHardState({ term: 1, vote: originA, commit: 2 });
      const other = storage.groups.open(contractRoom(10), originA);
      other.append([{ type: "normal", index: 1, term: 1, data: new Uint8Array() }]);
      storage.groups.open(room, originB).append([
        {
          type: "confChange",
          index: 1,
          term: 2,
          change: {
            transition: "auto",
            changes: [{ type: "addLearner", nodeId: originB }],
            context: new Uint8Array([3]),
          },
        },
      ]);
      storage.groups.destroy(room, originB);
      const restarted = await harness.restart(storage);
      const reread = restarted.groups.open(room, originA);
      expect(reread.initialState()).toEqual({
        hardState: { term: 1, vote: originA, commit: 2 },
        confState: { ...EMPTY_CONF_STATE, voters: [originA] },
      });
      expect(reread.snapshot().data).toEqual(new Uint8Array([5]));
      expect([reread.firstIndex(), reread.lastIndex(), reread.term(1)]).toEqual([2, 2, 1]);
      expect(reread.entries(2, 3, Number.POSITIVE_INFINITY)).toEqual([
        { type: "normal", index: 2, term: 1, data: new Uint8Array([6]) },
      ]);
      expect(restarted.groups.open(contractRoom(10), originA).lastIndex()).toBe(1);
      expect(restarted.groups.open(room, originB).lastIndex()).toBe(0);
    });
  });
}
