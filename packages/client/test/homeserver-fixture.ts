// A real homeserver in this process, listening on a loopback port with an
// in-memory SQLite database: what the SDK's integration tests talk to, over
// real HTTP and real WebSockets.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ParleyClient as Client,
  type ParleyClient,
  type ParleyClientOptions,
} from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { type HomeserverConfig, type RunningHomeserver, startHomeserver } from "@parley/server";
import { silentLogger, testHomeserverConfig } from "@parley/server/testing";

export interface TestHomeserver {
  readonly server: RunningHomeserver;
  readonly url: string;
  /** A new account with a new device; names are made unique per test server. */
  user(name: string, options?: ParleyClientOptions): Promise<ParleyClient>;
  close(): Promise<void>;
}

export const password = "correct horse battery staple";

export async function startTestHomeserver(
  overrides: Partial<HomeserverConfig> = {},
): Promise<TestHomeserver> {
  const directory = await mkdtemp(join(tmpdir(), "parley-sdk-"));
  const config: HomeserverConfig = {
    ...testHomeserverConfig({
      serverName: null,
      dataDirectory: join(directory, "data"),
      sqlitePath: ":memory:",
    }),
    ...overrides,
  };
  const server = await startHomeserver(config, {
    logger: silentLogger(),
    nowMs: () => Date.now(),
  });
  const clients: ParleyClient[] = [];
  let count = 0;
  return {
    server,
    url: server.url,
    async user(name, options = {}) {
      count += 1;
      const client = await Client.register(
        { baseUrl: server.url, userName: `${name}${count}`, password },
        nodeClientOptions(options),
      );
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.stop()));
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Resolves when `condition` holds, checked every 20 ms; rejects after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves when the asynchronous `condition` holds, checked every 25 ms; rejects after `timeoutMs`. */
export async function eventuallyAsync(
  condition: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 10_000; round += 1) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
