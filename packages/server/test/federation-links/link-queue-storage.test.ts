// The links' storage contract on both databases: SQLite always, PostgreSQL
// when PARLEY_TEST_POSTGRES_URL is set (a fresh schema each run).

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { LinkQueueStorage } from "../../src/federation/links/storage/link-queue-storage.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Storage } from "../../src/storage/storage.ts";

const postgresUrl = process.env["PARLEY_TEST_POSTGRES_URL"] ?? "";

interface Database {
  readonly storage: Storage;
  destroy(): Promise<void>;
}

const kinds: ReadonlyArray<{ name: string; open: (() => Promise<Database>) | null }> = [
  {
    name: "sqlite",
    async open() {
      const directory = await mkdtemp(join(tmpdir(), "parley-link-storage-"));
      const storage = await openStorage({ kind: "sqlite", path: join(directory, "links.sqlite") });
      return {
        storage,
        async destroy() {
          await storage.close();
          await rm(directory, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: "postgres",
    open:
      postgresUrl === ""
        ? null
        : async () => {
            const schema = `links_${randomBytes(6).toString("hex")}`;
            const storage = await openStorage({
              kind: "postgres",
              url: postgresUrl,
              schema,
              poolSize: 2,
            });
            return {
              storage,
              async destroy() {
                await storage.close();
                const client = new pg.Client({ connectionString: postgresUrl });
                await client.connect();
                await client.query(`drop schema if exists "${schema}" cascade`);
                await client.end();
              },
            };
          },
  },
];

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

for (const kind of kinds) {
  const describeKind = kind.open === null ? describe.skip : describe;
  describeKind(`link queue storage on ${kind.name}`, () => {
    let database: Database | undefined;
    afterEach(async () => {
      await database?.destroy();
      database = undefined;
    });

    async function links(): Promise<LinkQueueStorage> {
      if (kind.open === null) throw new Error("unavailable");
      database = await kind.open();
      await database.storage.migrations.migrateToLatest();
      return database.storage.federationLinks;
    }

    it("knows nothing of a new peer", async () => {
      const storage = await links();
      expect(await storage.loadPeer("peer.test")).toEqual({
        lastSequence: 0,
        receivedSequence: 0,
        queued: [],
      });
      expect(await storage.peersWithQueuedFrames()).toEqual([]);
    });

    it("stores a batch for several peers in one call and reads it back in order", async () => {
      const storage = await links();
      await storage.append(
        [
          { peer: "a.test", sequence: 1, payload: bytes("a1") },
          { peer: "b.test", sequence: 1, payload: bytes("b1") },
          { peer: "a.test", sequence: 2, payload: bytes("a22") },
        ],
        new Map([
          ["a.test", 2],
          ["b.test", 1],
        ]),
      );
      expect(await storage.peersWithQueuedFrames()).toEqual(["a.test", "b.test"]);
      const state = await storage.loadPeer("a.test");
      expect(state.lastSequence).toBe(2);
      expect(state.queued).toEqual([
        { sequence: 1, bytes: 2 },
        { sequence: 2, bytes: 3 },
      ]);
      const rows = await storage.read("a.test", 2, 10);
      expect(rows.map((row) => new TextDecoder().decode(row.payload))).toEqual(["a22"]);
    });

    it("keeps the last sequence after the queue is emptied", async () => {
      const storage = await links();
      await storage.append(
        [{ peer: "a.test", sequence: 1, payload: bytes("x") }],
        new Map([["a.test", 1]]),
      );
      await storage.deleteThrough("a.test", 1);
      expect(await storage.loadPeer("a.test")).toEqual({
        lastSequence: 1,
        receivedSequence: 0,
        queued: [],
      });
      expect(await storage.peersWithQueuedFrames()).toEqual([]);
    });

    it("writes nothing of a batch that fails", async () => {
      const storage = await links();
      await storage.append(
        [{ peer: "a.test", sequence: 1, payload: bytes("x") }],
        new Map([["a.test", 1]]),
      );
      const failed = await storage
        .append(
          [
            { peer: "a.test", sequence: 2, payload: bytes("y") },
            { peer: "a.test", sequence: 1, payload: bytes("duplicate key") },
          ],
          new Map([["a.test", 2]]),
        )
        .then(
          () => false,
          () => true,
        );
      expect(failed).toBe(true);
      expect((await storage.loadPeer("a.test")).lastSequence).toBe(1);
      expect((await storage.read("a.test", 1, 10)).length).toBe(1);
    });

    it("only raises the received mark", async () => {
      const storage = await links();
      await storage.recordReceived("a.test", 5);
      await storage.recordReceived("a.test", 3);
      expect((await storage.loadPeer("a.test")).receivedSequence).toBe(5);
      await storage.append(
        [{ peer: "a.test", sequence: 1, payload: bytes("x") }],
        new Map([["a.test", 1]]),
      );
      expect(await storage.loadPeer("a.test")).toMatchObject({
        lastSequence: 1,
        receivedSequence: 5,
      });
    });
  });
}
