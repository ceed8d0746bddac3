// What the federation tests that run several homeservers in one process share:
// starting a homeserver joined to an in-process network with its logs
// discarded, signing up a user on it, and polling until a condition holds.

import { join } from "node:path";
import { Writable } from "node:stream";
import { newDevice, ParleyClient } from "@parley/cli/client";
import type { ServerName } from "@parley/protocol";
import type { HomeserverConfig } from "../../src/config/load.ts";
import type { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningHomeserver, startHomeserver } from "../../src/process/homeserver.ts";

export const testPassword = "correct horse battery staple";

/** A federating homeserver on SQLite in `directory`, open registration, limits out of the way. */
export function inProcessConfig(directory: string, name: ServerName): HomeserverConfig {
  return {
    serverName: name,
    dataDirectory: join(directory, name),
    listen: { host: "127.0.0.1", port: 0 },
    storage: { kind: "sqlite", path: join(directory, `${name}.sqlite`) },
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

/** A homeserver on `network`, logging nowhere. */
export function startInProcessHomeserver(
  config: HomeserverConfig,
  network: InProcessNetwork,
): Promise<RunningHomeserver> {
  const silent = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return startHomeserver(config, {
    logger: createLogger("silent", silent),
    nowMs: () => Date.now(),
    federation: { transport: (self, handlers) => network.join(self, handlers) },
  });
}

/** A newly registered user with a new device on the server at `baseUrl`. */
export async function registerUser(
  name: string,
  baseUrl: string,
  serverName: ServerName,
): Promise<ParleyClient> {
  const client = new ParleyClient({ baseUrl, serverName, device: newDevice() });
  await client.register(name, testPassword);
  return client;
}

/** Polls `check` until it returns true; a check that throws counts as false. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the condition did not hold in time");
}
