// KeyPackages claimed by several processes sharing one SQLite file: the
// property the PostgreSQL concurrency contract checks, with real processes
// (better-sqlite3 is synchronous, so two handles in one process cannot race).

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openStorage } from "../../src/index.ts";
import { createAccount, createDevice } from "../storage-contract/fixtures.ts";
import { publishBatch } from "../storage-contract/key-packages-contract.ts";

const workerPath = fileURLToPath(new URL("./key-package-claim-worker.ts", import.meta.url));
const workerCount = 3;
const claimsPerWorker = 15;
const oneTimeCount = 30;
const workerTimeoutMs = 60_000;

function runWorker(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), workerPath, path, `${claimsPerWorker}`],
      { stdio: ["ignore", "pipe", "pipe"], timeout: workerTimeoutMs },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as string[]);
      else reject(new Error(`claim worker exited with ${code}: ${stderr}`));
    });
  });
}

describe("SQLite file shared by several processes", () => {
  it("hands every one-time KeyPackage out once, then the last-resort one", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-key-packages-"));
    const path = join(directory, "parley.sqlite");
    try {
      const storage = await openStorage({ kind: "sqlite", path });
      await storage.migrations.migrateToLatest();
      await createAccount(storage, "alice");
      await createDevice(storage, "alice", "phone");
      const oneTime = Array.from({ length: oneTimeCount }, (_, index) => `p${index}`);
      await publishBatch(storage, "phone", oneTime, "last");
      const claimed = (
        await Promise.all(Array.from({ length: workerCount }, () => runWorker(path)))
      ).flat();
      expect(claimed).toHaveLength(workerCount * claimsPerWorker);
      expect(claimed.filter((name) => name !== "last").sort()).toEqual([...oneTime].sort());
      expect(claimed.filter((name) => name === "last")).toHaveLength(
        workerCount * claimsPerWorker - oneTimeCount,
      );
      await storage.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
