// `parley demo` as a user runs it: the real command starts three homeserver
// processes, and once it says "ready" bob (second server) and carol (third
// server, a leaf of the room) read alice's welcome through the SDK. SIGTERM
// then stops it with exit code 0, its servers gone and their ports closed.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import type { RoomId } from "@parley/protocol";
import { afterAll, describe, expect, it } from "vitest";

const parley = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));
const readyTimeoutMs = 120_000;
const exitTimeoutMs = 30_000;

let demo: ChildProcess | undefined;
let output = "";

afterAll(async () => {
  // Only if an assertion failed before the test's own SIGTERM: the demo stops
  // its servers on SIGTERM, which SIGKILL would leave running.
  const child = demo;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), exitTimeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
});

function startDemo(): Promise<void> {
  const child = spawn(process.execPath, [parley, "demo"], { stdio: ["ignore", "pipe", "pipe"] });
  demo = child;
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "ready" in time:\n${output}`)),
      readyTimeoutMs,
    );
    child.stdout?.on("data", () => {
      if (/^ready$/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** The user's web client address, server name and password, as the demo printed them. */
function printedAccount(name: string): { url: string; serverName: string; password: string } {
  const url = new RegExp(`^  ${name}\\s+(http://\\S+)/$`, "m").exec(output)?.[1];
  const serverName = new RegExp(`user ${name}@(\\S+)\\s`, "m").exec(output)?.[1];
  const password = /password (\S+)\)/.exec(output)?.[1];
  if (url === undefined || serverName === undefined || password === undefined) {
    throw new Error(`the demo did not print ${name}'s login:\n${output}`);
  }
  return { url, serverName, password };
}

async function signIn(name: string): Promise<ParleyClient> {
  const { url, serverName, password } = printedAccount(name);
  return ParleyClient.login(
    { baseUrl: url, serverName, userName: name, password },
    nodeClientOptions(),
  );
}

/** The room and sender of the message reading `expected`, polled until it shows (bounded). */
async function waitForMessage(
  client: ParleyClient,
  expected: string,
  timeoutMs = 30_000,
): Promise<{ roomId: RoomId; sender: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const room of await client.rooms()) {
      const page = await client.history(room.roomId, { direction: "forward", limit: 100 });
      for (const event of page.events) {
        if (event.type === "message" && event.text === expected) {
          return { roomId: room.roomId, sender: event.sender };
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`"${expected}" did not arrive in time`);
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch {
    return true;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("parley demo", () => {
  it("federates alice's welcome to bob and carol, and stops cleanly on SIGTERM", {
    timeout: readyTimeoutMs + 2 * exitTimeoutMs,
  }, async () => {
    await startDemo();
    const child = demo;
    if (child?.pid === undefined) throw new Error("the demo has no process id");
    const welcome = /has alice's welcome: "([^"]+)"/.exec(output)?.[1];
    expect(welcome).toBeDefined();
    const alice = printedAccount("alice");
    const bob = await signIn("bob");
    const received = await waitForMessage(bob, welcome ?? "");
    expect(received.sender).toBe(`alice@${alice.serverName}`);
    const state = await bob.roomState(received.roomId);
    const carolServer = printedAccount("carol").serverName;
    // Carol's server takes part as a leaf: it does not sponsor the room.
    expect(state.sponsors).not.toContain(carolServer);
    expect(state.sponsors).toContain(bob.serverName);
    const carol = await signIn("carol");
    expect((await waitForMessage(carol, welcome ?? "")).roomId).toBe(received.roomId);
    const dataRoot = /--data (\S+)\/chat$/m.exec(output)?.[1];
    expect(dataRoot !== undefined && existsSync(dataRoot)).toBe(true);

    // Every child: the three servers and whatever else the command runs.
    const children = execFileSync("pgrep", ["-P", String(child.pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
    const servers = children.filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("server"),
    );
    expect(servers).toHaveLength(3);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    for (const pid of children) expect(alive(pid)).toBe(false);
    for (const name of ["alice", "bob", "carol"]) {
      expect(await refused(printedAccount(name).url)).toBe(true);
    }
    expect(existsSync(dataRoot ?? "")).toBe(false);
  });
});
