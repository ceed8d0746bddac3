// The client API in this process, on an in-memory SQLite database, driven by
// Fastify's `inject`: routes exercised without opening a socket.

import { Writable } from "node:stream";
import { deviceRecordRequest, newDevice } from "@parley/cli/client";
import { makeUserId, parseServerName } from "@parley/protocol";
import { adminCredentialOf } from "../../src/administration/admin-token.ts";
import { ServerBlockList } from "../../src/administration/server-block-list.ts";
import type { HomeserverConfig } from "../../src/config/load.ts";
import { type ClientApi, clientApiPrefix, createClientApi } from "../../src/http/client-api.ts";
import { loadOrCreateServerKey } from "../../src/identity/server-key.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createProcessServer, type ProcessServer } from "../../src/process/app.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Storage } from "../../src/storage/storage.ts";

export const serverName = "chat.test";

/** A JSON response body; the fields tests read are named, the rest is open. */
export interface ResponseBody {
  readonly code?: string;
  readonly message?: string;
  readonly accessToken?: string;
  readonly challenge?: string;
  readonly retryAfterMs?: number;
  readonly devices?: readonly unknown[];
  readonly [field: string]: unknown;
}

export interface InProcessApi {
  readonly app: ProcessServer;
  readonly storage: Storage;
  readonly clientApi: ClientApi;
  readonly logLines: string[];
  /** The operator's admin token and the block list behind /_parley/admin/v1. */
  readonly adminToken: string;
  readonly blockList: ServerBlockList;
  /** Moves the server's clock. */
  advanceMs(milliseconds: number): void;
  call(
    method: "GET" | "POST" | "DELETE",
    path: string,
    options?: {
      body?: unknown;
      token?: string;
      rawBody?: string;
      headers?: Record<string, string>;
      /** The API prefix; the client API's by default. */
      prefix?: string;
    },
  ): Promise<{ status: number; body: ResponseBody }>;
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<HomeserverConfig> = {}): HomeserverConfig {
  return {
    serverName,
    dataDirectory: "/nonexistent",
    listen: { host: "127.0.0.1", port: 0 },
    storage: { kind: "sqlite", path: ":memory:" },
    logLevel: "trace",
    inboxRetention: { maxAgeMs: 30 * 24 * 60 * 60 * 1000, maxEvents: 10_000 },
    deviceQueueItems: 100,
    registration: { mode: "open" },
    federation: { enabled: true, tickIntervalMs: 20 },
    rateLimits: {
      deviceRequestsPerSecond: 10_000,
      addressRequestsPerSecond: 10_000,
      authenticationAttemptsPerMinute: 10_000,
    },
    ...overrides,
  };
}

export async function startInProcess(
  overrides: Partial<HomeserverConfig> = {},
): Promise<InProcessApi> {
  const config = testConfig(overrides);
  let nowMs = Date.now();
  const logLines: string[] = [];
  const logger = createLogger(
    config.logLevel,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString("utf8"));
        done();
      },
    }),
  );
  const storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  await storage.migrations.migrateToLatest();
  const key = await loadOrCreateServerKey(storage, nowMs - 1000);
  const metrics = createMetrics();
  const adminToken = "test-admin-token-0123456789abcdefghijklmnopqrstuv";
  const blockList = new ServerBlockList(storage);
  await blockList.refresh();
  const app = createProcessServer({ storage, metrics, logger, shuttingDown: () => false });
  const clientApi = await createClientApi({
    app,
    storage,
    config,
    logger,
    metrics,
    nowMs: () => nowMs,
    currentKey: key,
    allKeys: await storage.serverKeys.list(),
    administration: { credential: adminCredentialOf("admin-token", adminToken), blockList },
  });
  clientApi.setServerName(serverName);
  await clientApi.startFederation();
  await app.ready();
  return {
    app,
    storage,
    clientApi,
    logLines,
    adminToken,
    blockList,
    advanceMs(milliseconds) {
      nowMs += milliseconds;
    },
    async call(method, path, options = {}) {
      const payload =
        options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const headers = {
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      };
      const response = await app.inject({
        method,
        url: `${options.prefix ?? clientApiPrefix}${path}`,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      return { status: response.statusCode, body: response.json() as ResponseBody };
    },
    async close() {
      clientApi.closeSockets();
      await app.close();
      await clientApi.close();
      await storage.close();
    },
  };
}

/** A new device and the register body for `userName` on the test server. */
export function registration(userName: string, password = "a long enough password") {
  const device = newDevice();
  const user = makeUserId(userName, parseServerName(serverName));
  return {
    device,
    body: {
      userName,
      password,
      deviceRecord: deviceRecordRequest(device, user, { nowMs: Date.now() }),
    },
  };
}
