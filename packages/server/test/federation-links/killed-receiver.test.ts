// A receiving server killed with SIGKILL and started again: durable frames
// queued while it was away are delivered to its handler exactly once, in
// order, after it returns, and none is lost.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseServerName, type ServerName } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { LinkEndpoint } from "./link-endpoint.ts";
import { frameOf, waitUntil } from "./recording-handlers.ts";

const receiverPath = fileURLToPath(new URL("./receiver-process.ts", import.meta.url));
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function spawnReceiver(
  directory: string,
  port: number,
  file: string,
): Promise<{ child: ChildProcess; name: ServerName }> {
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), receiverPath, directory, "receiver", `${port}`, file],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  cleanups.push(async () => {
    child.kill("SIGKILL");
  });
  const name = await new Promise<ServerName>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error("the receiver did not start")), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready (\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(parseServerName(match[1]));
      }
    });
    child.on("exit", () => reject(new Error("the receiver exited")));
  });
  return { child, name };
}

async function receivedLines(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

describe("a receiver killed and restarted", () => {
  it("gets the frames queued while it was away exactly once, in order", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-killed-receiver-"));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const file = join(directory, "received.txt");
    const alpha = await LinkEndpoint.create("alpha");
    cleanups.push(() => alpha.destroy());
    await alpha.start();

    const first = await spawnReceiver(directory, 0, file);
    const port = Number(first.name.split(":")[1]);
    const sent: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      sent.push(`before-${index}`);
      await alpha.requireLinks().send(first.name, frameOf(`before-${index}`), "durable");
    }
    let lines: string[] = [];
    await waitUntil(
      "the first frames arrived",
      () => {
        void receivedLines(file).then((read) => {
          lines = read;
        });
        return lines.length >= 10;
      },
      20_000,
    );

    // Killed while idle: everything sent so far was acknowledged (so its mark is stored).
    let queued = "";
    await waitUntil(
      "alpha's queue is empty",
      () => {
        void alpha.metrics?.registry
          .getSingleMetricAsString("parley_federation_queue_frames")
          .then((text) => {
            queued = text;
          });
        return queued.includes("parley_federation_queue_frames 0");
      },
      20_000,
    );
    first.child.kill("SIGKILL");
    await waitUntil("alpha saw the link go", () => !alpha.requireLinks().isUp(first.name), 20_000);
    for (let index = 0; index < 50; index += 1) {
      sent.push(`away-${index}`);
      await alpha.requireLinks().send(first.name, frameOf(`away-${index}`), "durable");
    }

    const second = await spawnReceiver(directory, port, file);
    expect(second.name).toBe(first.name);
    await waitUntil(
      "the queued frames arrived",
      () => {
        void receivedLines(file).then((read) => {
          lines = read;
        });
        return lines.length >= sent.length;
      },
      30_000,
    );
    // A last frame after the queue: anything sent twice would show before it.
    sent.push("last");
    await alpha.requireLinks().send(first.name, frameOf("last"), "durable");
    await waitUntil(
      "the last frame arrived",
      () => {
        void receivedLines(file).then((read) => {
          lines = read;
        });
        return lines.includes(`${alpha.name} last`);
      },
      30_000,
    );
    expect(lines).toEqual(sent.map((text) => `${alpha.name} ${text}`));
  });
});
