// A homeserver for the browser tests: the `parley server` command as a child
// process on a free loopback port, in its own temporary directory, serving
// the built web client. `stop()` ends it (SIGTERM, then SIGKILL) and removes
// the directory.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const parleyCommand = fileURLToPath(new URL("../../cli/bin/parley.mjs", import.meta.url));
const startTimeoutMs = 60_000;
const stopTimeoutMs = 10_000;
/** Output kept for failure reports; older output is dropped. */
const outputCharactersMax = 200_000;

export class HomeserverProcess {
  readonly url: string;
  readonly serverName: string;
  readonly #child: ChildProcess;
  readonly #directory: string;
  readonly #output: { text: string };

  private constructor(
    child: ChildProcess,
    directory: string,
    output: { text: string },
    address: { url: string; serverName: string },
  ) {
    this.#child = child;
    this.#directory = directory;
    this.#output = output;
    this.url = address.url;
    this.serverName = address.serverName;
  }

  /** `environment` adds PARLEY_* settings, e.g. a faster federation tick. */
  static async start(
    environment: Readonly<Record<string, string>> = {},
  ): Promise<HomeserverProcess> {
    const directory = await mkdtemp(join(tmpdir(), "parley-web-test-"));
    const inherited: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith("PARLEY_")) inherited[name] = value;
    }
    const child = spawn(process.execPath, [parleyCommand, "server"], {
      cwd: directory,
      env: {
        ...inherited,
        PARLEY_LISTEN_PORT: "0",
        PARLEY_LOG_LEVEL: "warn",
        // Two browsers on one address sign up and sync at once.
        PARLEY_RATE_LIMITS_AUTHENTICATION_ATTEMPTS_PER_MINUTE: "1000",
        ...environment,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = { text: "" };
    const append = (chunk: Buffer) => {
      output.text = (output.text + chunk.toString("utf8")).slice(-outputCharactersMax);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    const address = await new Promise<{ url: string; serverName: string }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no start in time:\n${output.text}`)),
        startTimeoutMs,
      );
      const check = () => {
        const url = /listening on:\s+(http:\/\/\S+)/.exec(output.text)?.[1];
        const serverName = /server name:\s+(\S+)/.exec(output.text)?.[1];
        if (url === undefined || serverName === undefined) return;
        clearTimeout(timer);
        child.stdout?.off("data", check);
        resolve({ url, serverName });
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the homeserver exited with ${code} before listening:\n${output.text}`));
      });
    }).catch(async (error: unknown) => {
      child.kill("SIGKILL");
      await rm(directory, { recursive: true, force: true });
      throw error;
    });
    return new HomeserverProcess(child, directory, output, address);
  }

  /** Everything the process printed, for failure messages. */
  get output(): string {
    return this.#output.text;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    await rm(this.#directory, { recursive: true, force: true });
  }
}
