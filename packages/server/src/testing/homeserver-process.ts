// A homeserver as a real child process on a loopback port, with its own
// temporary data directory: what the story and crash tests run against.
// `kill()` is SIGKILL (a crash); `stop()` is SIGTERM (a clean stop);
// `restart()` starts a new process on the same data; `admin()` calls the
// admin API with the token from the data directory.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const mainPath = fileURLToPath(new URL("../main.ts", import.meta.url));
const startTimeoutMs = 30_000;
const stopTimeoutMs = 15_000;
const adminRequestTimeoutMs = 10_000;
/** Output kept per process; older output is dropped (tests only look at recent lines). */
const outputCharactersMax = 4_000_000;

export interface HomeserverOptions {
  /** Extra PARLEY_* settings, e.g. a PostgreSQL URL or rate limits. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly workingDirectory?: string;
  /** How long a start (and each restart) may take; default 30 s. */
  readonly startTimeoutMs?: number;
}

/** The parent's environment without PARLEY_* settings, so nothing leaks in. */
function cleanEnvironment(extra: Readonly<Record<string, string>>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("PARLEY_")) environment[name] = value;
  }
  return {
    ...environment,
    PARLEY_LISTEN_PORT: "0",
    PARLEY_LOG_LEVEL: "info",
    // Story tests send bursts from one address; production defaults are lower.
    PARLEY_RATE_LIMITS_ADDRESS_REQUESTS_PER_SECOND: "100000",
    PARLEY_RATE_LIMITS_DEVICE_REQUESTS_PER_SECOND: "100000",
    PARLEY_RATE_LIMITS_AUTHENTICATION_ATTEMPTS_PER_MINUTE: "10000",
    ...extra,
  };
}

export class HomeserverProcess {
  readonly workingDirectory: string;
  readonly #environment: Readonly<Record<string, string>>;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | undefined;
  #output = "";
  url = "";
  serverName = "";

  private constructor(
    workingDirectory: string,
    environment: Readonly<Record<string, string>>,
    startTimeoutMs: number,
  ) {
    this.workingDirectory = workingDirectory;
    this.#environment = environment;
    this.#startTimeoutMs = startTimeoutMs;
  }

  static async start(options: HomeserverOptions = {}): Promise<HomeserverProcess> {
    const directory =
      options.workingDirectory ?? (await realpath(await mkdtemp(join(tmpdir(), "parley-story-"))));
    const server = new HomeserverProcess(
      directory,
      options.environment ?? {},
      options.startTimeoutMs ?? startTimeoutMs,
    );
    await server.#spawn();
    return server;
  }

  /** Everything the process printed (stdout and stderr, logs included), newest kept. */
  get output(): string {
    return this.#output;
  }

  get port(): number {
    return Number(this.url.split(":").at(-1));
  }

  /** True while the process runs. */
  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /**
   * A GET on the admin API (docs/protocol.md §10.11), e.g. `/rooms`; the
   * answer's JSON, or a thrown error naming the status and code.
   */
  async admin(path: string): Promise<unknown> {
    const directory =
      this.#environment["PARLEY_DATA_DIRECTORY"] ?? join(this.workingDirectory, "parley-data");
    const token = (await readFile(join(directory, "admin-token"), "utf8")).trim();
    const response = await fetch(`${this.url}/_parley/admin/v1${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(adminRequestTimeoutMs),
    });
    const body: unknown = await response.json();
    if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** A crash: SIGKILL, no shutdown of any kind. */
  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  /** A clean stop: SIGTERM; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.#end("SIGTERM");
  }

  /** Starts again on the same data directory, on the same port if it is free. */
  async restart(): Promise<void> {
    await this.#spawn(this.port);
  }

  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.workingDirectory, { recursive: true, force: true });
  }

  #spawn(port?: number): Promise<void> {
    const environment = cleanEnvironment({
      ...this.#environment,
      ...(port === undefined
        ? {}
        : { PARLEY_LISTEN_PORT: String(port), PARLEY_SERVER_NAME: this.serverName }),
    });
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), mainPath], {
      cwd: this.workingDirectory,
      env: environment,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const append = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-outputCharactersMax);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    // Only this process's own output counts: an earlier banner must not match.
    let startOutput = "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no start in time:\n${this.#output}`)),
        this.#startTimeoutMs,
      );
      const check = (chunk: Buffer) => {
        startOutput = (startOutput + chunk.toString("utf8")).slice(-100_000);
        const recent = startOutput;
        const url = /listening on:\s+(http:\/\/\S+)/.exec(recent)?.[1];
        const name = /server name:\s+(\S+)/.exec(recent)?.[1];
        if (url !== undefined && name !== undefined) {
          clearTimeout(timer);
          child.stdout?.off("data", check);
          this.url = url;
          this.serverName = name;
          resolve();
        }
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before listening:\n${this.#output}`));
      });
    });
  }

  #end(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve(child?.exitCode ?? null);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no exit after ${signal}`)), stopTimeoutMs);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      child.kill(signal);
    });
  }
}
