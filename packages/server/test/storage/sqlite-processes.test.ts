// Several processes appending to one SQLite file at once. better-sqlite3 is
// synchronous, so two handles in one process cannot wait for each other's
// locks; real child processes can, through the busy timeout and BEGIN
// IMMEDIATE. The result must be what the PostgreSQL concurrency story checks:
// unique, gapless, increasing positions and per-room sequences.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openStorage } from "../../src/index.ts";
import { createRoom } from "../storage-contract/fixtures.ts";

const workerPath = fileURLToPath(new URL("./append-worker.ts", import.meta.url));
const workerCount = 3;
const eventsPerWorker = 40;
const workerTimeoutMs = 60_000;

function runWorker(path: string, workerName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), workerPath, path, workerName, `${eventsPerWorker}`],
      { stdio: ["ignore", "ignore", "pipe"], timeout: workerTimeoutMs },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`worker ${workerName} exited with ${code}: ${stderr}`));
      }
    });
  });
}

describe("SQLite file shared by several processes", () => {
  it("keeps stream positions unique, gapless and increasing", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-sqlite-processes-"));
    const path = join(directory, "parley.sqlite");
    try {
      const storage = await openStorage({ kind: "sqlite", path });
      await storage.migrations.migrateToLatest();
      for (const roomId of ["a", "b", "c"]) {
        await createRoom(storage, roomId);
      }
      await Promise.all(
        Array.from({ length: workerCount }, (_, index) => runWorker(path, `worker-${index}`)),
      );
      const total = workerCount * eventsPerWorker;
      expect(await storage.events.streamHead()).toBe(total);
      const all = await storage.events.readStream({
        roomIds: ["a", "b", "c"],
        afterPosition: 0,
        limit: 1000,
      });
      expect(all.events.map((event) => event.streamPosition)).toEqual(
        Array.from({ length: total }, (_, index) => index + 1),
      );
      for (const roomId of ["a", "b", "c"]) {
        const sequences = all.events
          .filter((event) => event.roomId === roomId)
          .map((event) => event.roomSequence);
        expect(sequences).toEqual(
          Array.from({ length: sequences.length }, (_, index) => index + 1),
        );
      }
      await storage.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
