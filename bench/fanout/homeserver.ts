// The homeserver under test: `parley server` as a child process on loopback,
// with its own data directory, a fixed port and server name (so devices can
// be provisioned before it starts), and rate limits lifted for load.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const parleyBin = fileURLToPath(new URL("../../packages/cli/bin/parley.mjs", import.meta.url));
const startTimeoutMs = 30_000;
/** Set to a directory to profile the server under load (node --cpu-prof). */
const cpuProfileVariable = "PARLEY_BENCH_CPU_PROFILE_DIRECTORY";

/** A free loopback port, found by binding port 0 and letting go of it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export class BenchHomeserver {
  readonly child: ChildProcess;
  readonly url: string;
  readonly #output: () => string;

  private constructor(child: ChildProcess, url: string, output: () => string) {
    this.child = child;
    this.url = url;
    this.#output = output;
  }

  /** The tail of what the server printed (warnings and errors only, at log level warn). */
  get output(): string {
    return this.#output();
  }

  static start(input: { dataDirectory: string; port: number }): Promise<BenchHomeserver> {
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith("PARLEY_")) environment[name] = value;
    }
    // A directory here makes the server write a V8 CPU profile there when it stops.
    const profileDirectory = process.env[cpuProfileVariable];
    const profiling =
      profileDirectory === undefined || profileDirectory === ""
        ? []
        : ["--cpu-prof", "--cpu-prof-dir", profileDirectory];
    const child = spawn(process.execPath, [...profiling, parleyBin, "server"], {
      env: {
        ...environment,
        PARLEY_DATA_DIRECTORY: input.dataDirectory,
        PARLEY_LISTEN_PORT: String(input.port),
        PARLEY_SERVER_NAME: `localhost:${input.port}`,
        PARLEY_LOG_LEVEL: "warn",
        PARLEY_RATE_LIMITS_DEVICE_REQUESTS_PER_SECOND: "1000000",
        PARLEY_RATE_LIMITS_ADDRESS_REQUESTS_PER_SECOND: "1000000",
        PARLEY_RATE_LIMITS_AUTHENTICATION_ATTEMPTS_PER_MINUTE: "1000000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), startTimeoutMs);
      child.stdout?.on("data", () => {
        const url = /listening on:\s+(http:\/\/\S+)/.exec(output)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(new BenchHomeserver(child, url, () => output));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}:\n${output}`));
      });
    });
  }

  /** Resident memory of the server process, from /proc (Linux). */
  residentBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    const kibibytes = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return Number(kibibytes ?? 0) * 1024;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) {
        resolve();
        return;
      }
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}
