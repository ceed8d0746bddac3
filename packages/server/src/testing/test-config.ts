// The configuration and logger of a homeserver started inside a test's own
// process: what the server's in-process federation tests and the SDK's
// homeserver fixture share.

import { Writable } from "node:stream";
import type { ServerName } from "@parley/protocol";
import type { HomeserverConfig } from "../config/load.ts";
import { createLogger } from "../observability/logger.ts";

/**
 * Loopback on a free port, SQLite at `sqlitePath` (":memory:" for none),
 * open registration, federation ticking every 20 ms, and the rate limits out
 * of the way. `serverName` null: the server takes its listening address.
 */
export function testHomeserverConfig(input: {
  readonly serverName: ServerName | null;
  readonly dataDirectory: string;
  readonly sqlitePath: string;
}): HomeserverConfig {
  return {
    serverName: input.serverName,
    dataDirectory: input.dataDirectory,
    listen: { host: "127.0.0.1", port: 0 },
    storage: { kind: "sqlite", path: input.sqlitePath },
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

/** A logger that writes nowhere. */
export function silentLogger(): ReturnType<typeof createLogger> {
  const silent = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return createLogger("silent", silent);
}
