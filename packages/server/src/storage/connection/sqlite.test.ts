import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteDialect } from "./sqlite.ts";

interface Tables {
  notes: { id: number; body: string };
}

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-sqlite-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function openCounting(path: string): Promise<{ db: Kysely<Tables>; syncs: () => number }> {
  let syncs = 0;
  const db = new Kysely<Tables>({
    dialect: createSqliteDialect(path, { synced: () => (syncs += 1) }),
  });
  await sql`create table notes (id integer primary key, body text not null)`.execute(db);
  return { db, syncs: () => syncs };
}

describe("the SQLite connection", () => {
  it("syncs the WAL once per committed transaction, not per statement", async () => {
    const { db, syncs } = await openCounting(join(directory, "a.db"));
    const before = syncs();
    await db.transaction().execute(async (transaction) => {
      await transaction.insertInto("notes").values({ id: 1, body: "one" }).execute();
      await transaction.insertInto("notes").values({ id: 2, body: "two" }).execute();
      expect(syncs()).toBe(before);
    });
    expect(syncs()).toBe(before + 1);
    await db.destroy();
  });

  it("syncs after a write outside a transaction, never after a read", async () => {
    const { db, syncs } = await openCounting(join(directory, "b.db"));
    const before = syncs();
    await db.insertInto("notes").values({ id: 1, body: "one" }).execute();
    expect(syncs()).toBe(before + 1);
    const rows = await db.selectFrom("notes").selectAll().execute();
    expect(rows).toEqual([{ id: 1, body: "one" }]);
    expect(syncs()).toBe(before + 1);
    await db.destroy();
  });

  it("keeps what was committed across a reopen, and nothing of a rolled back transaction", async () => {
    const path = join(directory, "c.db");
    const { db } = await openCounting(path);
    await db.insertInto("notes").values({ id: 1, body: "kept" }).execute();
    await expect(
      db.transaction().execute(async (transaction) => {
        await transaction.insertInto("notes").values({ id: 2, body: "dropped" }).execute();
        throw new Error("abandoned");
      }),
    ).rejects.toThrow("abandoned");
    await db.destroy();
    const reopened = new Kysely<Tables>({ dialect: createSqliteDialect(path) });
    expect(await reopened.selectFrom("notes").selectAll().execute()).toEqual([
      { id: 1, body: "kept" },
    ]);
    await reopened.destroy();
  });

  it("reuses prepared statements: the same query many times gives the same answers", async () => {
    const { db } = await openCounting(join(directory, "d.db"));
    for (let id = 1; id <= 50; id += 1) {
      await db
        .insertInto("notes")
        .values({ id, body: `note ${id}` })
        .execute();
      const row = await db.selectFrom("notes").selectAll().where("id", "=", id).executeTakeFirst();
      expect(row).toEqual({ id, body: `note ${id}` });
    }
    await db.destroy();
  });

  it("runs the next transaction while the last one's sync is pending; each answers after its own", async () => {
    const { db, syncs } = await openCounting(join(directory, "e.db"));
    const before = syncs();
    let syncsSeenBySecond = -1;
    const first = db.transaction().execute(async (transaction) => {
      await transaction.insertInto("notes").values({ id: 1, body: "one" }).execute();
    });
    const second = db.transaction().execute(async (transaction) => {
      // The first has committed (it holds no lock now) but its sync cannot have returned yet.
      syncsSeenBySecond = syncs();
      await transaction.insertInto("notes").values({ id: 2, body: "two" }).execute();
    });
    await first;
    expect(syncs()).toBeGreaterThanOrEqual(before + 1);
    await second;
    expect(syncsSeenBySecond).toBe(before);
    expect(syncs()).toBe(before + 2);
    await db.destroy();
  });

  it("answers a read of a committed write only after the write's sync", async () => {
    const { db, syncs } = await openCounting(join(directory, "f.db"));
    const before = syncs();
    const write = db.insertInto("notes").values({ id: 1, body: "one" }).execute();
    const rows = await db.selectFrom("notes").selectAll().execute();
    expect(rows).toEqual([{ id: 1, body: "one" }]);
    expect(syncs()).toBe(before + 1);
    await write;
    await db.destroy();
  });

  it("keeps several statements on one connection in order with other callers", async () => {
    const { db } = await openCounting(join(directory, "g.db"));
    const held = db.connection().execute(async (connection) => {
      await connection.insertInto("notes").values({ id: 1, body: "one" }).execute();
      // The connection was handed on after the first statement; this one queues anew.
      await connection.insertInto("notes").values({ id: 3, body: "three" }).execute();
    });
    const other = db.transaction().execute(async (transaction) => {
      await transaction.insertInto("notes").values({ id: 2, body: "two" }).execute();
    });
    await Promise.all([held, other]);
    const rows = await db.selectFrom("notes").select("id").orderBy("id").execute();
    expect(rows.map((row) => row.id)).toEqual([1, 2, 3]);
    await db.destroy();
  });

  it("needs no syncs in memory (no WAL)", async () => {
    const { db, syncs } = await openCounting(":memory:");
    await db.insertInto("notes").values({ id: 1, body: "one" }).execute();
    expect(syncs()).toBe(0);
    await db.destroy();
  });
});
