// A real crash: a child process writes and flushes batch after batch to a
// SQLite file and is killed with SIGKILL at an arbitrary moment, most likely
// in the middle of a flush. Reopened, the storage holds every batch the child
// reported flushed, and each batch whole or not at all: the Raft log, the
// messages and the room record all stop at the same round.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { contractRoom } from "@parley/federation/storage-contract";
import { nodeId } from "@parley/raft";
import { describe, expect, it } from "vitest";
import { DatabaseFederationStorage, openStorage } from "../../src/index.ts";
import { crashNode, crashRoomByte, writesPerRound } from "./crash-worker.ts";

const workerPath = fileURLToPath(new URL("./crash-worker.ts", import.meta.url));
const roundsMax = 400;
const killAfterRounds = [4, 9];
const workerTimeoutMs = 60_000;

/** Runs the worker until it reports `rounds` flushes, kills it, and returns the last round it reported. */
function runAndKill(path: string, rounds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), workerPath, path, `${roundsMax}`],
      { stdio: ["ignore", "pipe", "pipe"], timeout: workerTimeoutMs },
    );
    let reported = 0;
    let stderr = "";
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^flushed (\d+)$/.exec(line);
        if (match !== null) reported = Number(match[1]);
      }
      if (reported >= rounds && !child.killed) child.kill("SIGKILL");
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(reported);
      else reject(new Error(`the worker was not killed (${signal}): ${stderr}`));
    });
  });
}

describe("Federation storage on SQLite killed mid-flush", () => {
  it("keeps every reported flush, and each batch whole or not at all", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-federation-crash-"));
    const path = join(directory, "parley.sqlite");
    try {
      let before = 0;
      for (const rounds of killAfterRounds) {
        const reported = await runAndKill(path, before + rounds);
        const storage = await openStorage({ kind: "sqlite", path });
        const federation = await DatabaseFederationStorage.open(storage.database);
        const room = contractRoom(crashRoomByte);
        const node = nodeId(crashNode);
        const round = federation.loadRoom(room)?.retiredIncarnation ?? 0;
        expect(round).toBeGreaterThanOrEqual(reported);
        expect(federation.groups.open(room, node).lastIndex()).toBe(round * writesPerRound);
        expect(federation.messages(room).contiguous(node)).toBe(round * writesPerRound);
        expect(federation.messages(room).size).toBe(round * writesPerRound);
        await storage.close();
        before = round;
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
