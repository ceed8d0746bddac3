// Three homeservers in one process, each with its own SQLite file, linked by
// the in-process network; every federation frame a server receives is kept,
// so a test can search them (for plaintext that must not be there).

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerName } from "@parley/protocol";
import { pollUntil } from "@parley/server/testing";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { RunningHomeserver } from "../../src/process/homeserver.ts";
import { inProcessConfig, startInProcessHomeserver } from "../federation/in-process-servers.ts";

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
    const server = await startInProcessHomeserver(
      inProcessConfig(this.directory, name),
      this.network,
      { onFrame: (bytes) => this.frames.push(Uint8Array.from(bytes)) },
    );
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
