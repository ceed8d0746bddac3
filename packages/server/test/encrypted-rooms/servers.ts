// Three homeservers in one process, each with its own SQLite file, linked by
// the in-process network; every federation frame a server receives is kept,
// so a test can search them (for plaintext that must not be there).

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { ServerName } from "@parley/protocol";
import { pollUntil } from "@parley/server/testing";
import type { HomeserverConfig } from "../../src/config/load.ts";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningHomeserver, startHomeserver } from "../../src/process/homeserver.ts";

export class TestFederation {
  readonly network = new InProcessNetwork();
  readonly servers = new Map<ServerName, RunningHomeserver>();
  /** Every frame any server received from a peer, as bytes. */
  readonly frames: Uint8Array[] = [];
  directory = "";

  async open(names: readonly ServerName[]): Promise<void> {
    this.directory = await mkdtemp(join(tmpdir(), "parley-encrypted-"));
    for (const name of names) await this.start(name);
  }

  async start(name: ServerName): Promise<RunningHomeserver> {
    const silent = new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
    const server = await startHomeserver(this.#config(name), {
      logger: createLogger("silent", silent),
      nowMs: () => Date.now(),
      federation: {
        transport: (self, handlers) =>
          this.network.join(self, {
            linkUp: (peer) => handlers.linkUp(peer),
            linkDown: (peer) => handlers.linkDown(peer),
            receive: (peer, bytes) => {
              this.frames.push(Uint8Array.from(bytes));
              return handlers.receive(peer, bytes);
            },
          }),
      },
    });
    this.servers.set(name, server);
    return server;
  }

  async stop(name: ServerName): Promise<void> {
    await this.server(name).close();
    this.servers.delete(name);
  }

  server(name: ServerName): RunningHomeserver {
    const server = this.servers.get(name);
    if (server === undefined) throw new Error(`${name} is not running`);
    return server;
  }

  /** Every file the servers wrote (databases, their journals, data directories). */
  async storedFiles(): Promise<Array<{ path: string; bytes: Uint8Array }>> {
    const files: Array<{ path: string; bytes: Uint8Array }> = [];
    const entries = await readdir(this.directory, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      files.push({ path, bytes: new Uint8Array(await readFile(path)) });
    }
    return files;
  }

  async close(): Promise<void> {
    for (const server of this.servers.values()) await server.close();
    this.servers.clear();
    if (this.directory !== "") await rm(this.directory, { recursive: true, force: true });
  }

  #config(name: ServerName): HomeserverConfig {
    return {
      serverName: name,
      dataDirectory: join(this.directory, name),
      listen: { host: "127.0.0.1", port: 0 },
      storage: { kind: "sqlite", path: join(this.directory, `${name}.sqlite`) },
      logLevel: "silent",
      inboxRetention: { maxAgeMs: 30 * 24 * 60 * 60 * 1000, maxEvents: 10_000 },
      deviceQueueItems: 100,
      registration: { mode: "open" },
      rateLimits: {
        deviceRequestsPerSecond: 10_000,
        addressRequestsPerSecond: 10_000,
        authenticationAttemptsPerMinute: 10_000,
      },
      federation: { enabled: true, tickIntervalMs: 20 },
    };
  }
}

/** Polls `check` until it returns a value (bounded: 20 s). */
export function eventually<Value>(check: () => Promise<Value | undefined>): Promise<Value> {
  return pollUntil("the condition", 20_000, check);
}

/** Whether `needle` occurs in `haystack`, byte for byte. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(
    Buffer.from(needle),
  );
}
