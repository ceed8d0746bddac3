// One homeserver of the demo: the `parley server` command as a child process
// on loopback with its own data directory. The port is the one asked for when
// it is free, else one the system picks, so a busy 7001 never stops the demo.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const parleyCommand = fileURLToPath(new URL("../../../bin/parley.mjs", import.meta.url));
const startTimeoutMs = 60_000;
const stopTimeoutMs = 10_000;
/** Output kept for error messages; older output is dropped. */
const outputCharactersMax = 20_000;

/** Whether `port` on 127.0.0.1 can be listened on right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

export class HomeserverChild {
  readonly url: string;
  readonly serverName: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, address: { url: string; serverName: string }) {
    this.#child = child;
    this.url = address.url;
    this.serverName = address.serverName;
  }

  static async start(options: {
    readonly preferredPort: number;
    readonly dataDirectory: string;
  }): Promise<HomeserverChild> {
    const port = (await portIsFree(options.preferredPort)) ? options.preferredPort : 0;
    const inherited: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith("PARLEY_")) inherited[name] = value;
    }
    const child = spawn(process.execPath, [parleyCommand, "server"], {
      cwd: options.dataDirectory,
      env: {
        ...inherited,
        PARLEY_LISTEN_HOST: "127.0.0.1",
        PARLEY_LISTEN_PORT: String(port),
        PARLEY_DATA_DIRECTORY: options.dataDirectory,
        PARLEY_LOG_LEVEL: "warn",
      },
      // Same process group as the demo: Ctrl-C or a closed terminal reaches
      // the servers too, so none outlives the demo. The demo's own SIGTERM
      // may then be a second signal that ends a server at once rather than
      // gracefully, which costs nothing: its data is deleted right after.
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = { text: "" };
    const append = (chunk: Buffer) => {
      output.text = (output.text + chunk.toString("utf8")).slice(-outputCharactersMax);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    try {
      const address = await new Promise<{ url: string; serverName: string }>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`a homeserver did not start in time:\n${output.text}`)),
          startTimeoutMs,
        );
        const check = () => {
          const url = /listening on:\s+(http:\/\/\S+)/.exec(output.text)?.[1];
          const serverName = /server name:\s+(\S+)/.exec(output.text)?.[1];
          if (url === undefined || serverName === undefined) return;
          clearTimeout(timer);
          child.stdout?.off("data", check);
          resolve({ url: url.replace(/\/$/, ""), serverName });
        };
        child.stdout?.on("data", check);
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`a homeserver exited with ${code} before listening:\n${output.text}`));
        });
      });
      return new HomeserverChild(child, address);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  /** Stops the server gracefully (SIGTERM), or at once if it takes too long. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
