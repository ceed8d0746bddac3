// The homeserver as a real child process on a loopback port: it starts with
// zero set-up in an empty working directory, answers /health and /metrics over
// real HTTP, stops cleanly on SIGTERM, and keeps its identity across restarts.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const mainPath = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const startTimeoutMs = 30_000;
const stopTimeoutMs = 15_000;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

let workingDirectory = "";
const children: ChildProcess[] = [];

beforeEach(async () => {
  workingDirectory = await realpath(await mkdtemp(join(tmpdir(), "parley-main-")));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  }
  await rm(workingDirectory, { recursive: true, force: true });
});

/** The parent's environment without PARLEY_* settings, so nothing leaks in. */
function cleanEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("PARLEY_")) {
      environment[name] = value;
    }
  }
  return { ...environment, PARLEY_LISTEN_PORT: "0", PARLEY_LOG_LEVEL: "info" };
}

function startHomeserver(): Promise<Started> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), mainPath], {
    cwd: workingDirectory,
    env: cleanEnvironment(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  const append = (chunk: Buffer) => {
    // Keep the tail only: the log is bounded by the test, but be safe.
    output = (output + chunk.toString("utf8")).slice(-100_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no start in time:\n${output}`)),
      startTimeoutMs,
    );
    const check = () => {
      const match = /listening on:\s+(http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout?.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
}

function stop(started: Started): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no clean exit in time")), stopTimeoutMs);
    started.child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
    started.child.kill("SIGTERM");
  });
}

function serverKeyOf(output: string): string | undefined {
  return /server key:\s+(\S+)/.exec(output)?.[1];
}

describe("homeserver process", () => {
  it("serves /health and /metrics over HTTP and exits cleanly on SIGTERM", async () => {
    const started = await startHomeserver();
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = started.url.split(":").at(-1);
    expect(started.output()).toContain(`data directory: ${join(workingDirectory, "parley-data")}`);
    expect(started.output()).toContain(`server name:    localhost:${port}`);

    const health = await fetch(`${started.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: "ok",
      checks: { database: "ok", federation: "ok" },
    });

    const metrics = await fetch(`${started.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(
      /parley_http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} 1/,
    );
    expect(text).toContain("parley_connections_open");

    const exit = await stop(started);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(started.output()).toContain('"msg":"stopped"');
    expect((await stat(join(workingDirectory, "parley-data", "parley.sqlite"))).isFile()).toBe(
      true,
    );
  });

  it("keeps its signing key across a restart", async () => {
    const first = await startHomeserver();
    const firstKey = serverKeyOf(first.output());
    expect(firstKey).toMatch(/^ed25519:/);
    const firstExit = await stop(first);
    expect(firstExit, first.output()).toEqual({ code: 0, signal: null });
    const second = await startHomeserver();
    expect(serverKeyOf(second.output())).toBe(firstKey);
    expect((await stop(second)).code).toBe(0);
  });
});
