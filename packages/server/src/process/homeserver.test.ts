import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HomeserverConfig } from "../config/load.ts";
import { createLogger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { startHomeserver } from "./homeserver.ts";
import { sweepKeyPackages, sweepRetention } from "./retention-sweep.ts";

const logger = createLogger(
  "silent",
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
);

let directory = "";

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-homeserver-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function config(): HomeserverConfig {
  return {
    serverName: null,
    dataDirectory: join(directory, "data"),
    listen: { host: "127.0.0.1", port: 0 },
    storage: { kind: "sqlite", path: ":memory:" },
    logLevel: "silent",
    inboxRetention: { maxAgeMs: 1000, maxEvents: 10 },
    deviceQueueItems: 10,
    keyPackageSweepIntervalMs: 60_000,
    registration: { mode: "open" },
    federation: { enabled: true, tickIntervalMs: 20 },
    rateLimits: {
      deviceRequestsPerSecond: 50,
      addressRequestsPerSecond: 200,
      authenticationAttemptsPerMinute: 30,
    },
  };
}

describe("homeserver wiring", () => {
  it("starts migrated with a key, then closes the database on a graceful stop", async () => {
    const homeserver = await startHomeserver(config(), { logger, nowMs: () => 5000 });
    expect(homeserver.serverName).toBe(`localhost:${homeserver.port}`);
    expect(await homeserver.storage.serverKeys.current(5000)).not.toBeNull();
    const health = await homeserver.app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(200);
    await Promise.all([homeserver.close(), homeserver.close()]);
    await expect(homeserver.storage.ping()).rejects.toThrow();
  });

  it("sweeps expired sessions, old queue items and expired KeyPackages, counting them", async () => {
    const homeserver = await startHomeserver(config(), { logger, nowMs: () => 0 });
    const { storage } = homeserver;
    try {
      await storage.accounts.create({ localName: "alice", passwordHash: "h", createdAtMs: 0 });
      await storage.devices.create({
        deviceId: "phone",
        localName: "alice",
        identityRecord: new Uint8Array([1]),
        attestation: new Uint8Array([2]),
        recordSequence: 1,
        createdAtMs: 0,
      });
      await storage.devices.createSession({
        tokenHash: new Uint8Array([9]),
        deviceId: "phone",
        createdAtMs: 0,
        expiresAtMs: 100,
      });
      await storage.inboxes.enqueue({
        deviceId: "phone",
        itemId: "invite",
        itemKind: "invite",
        body: new Uint8Array([3]),
        createdAtMs: 0,
        maxItems: 10,
      });
      const keyPackage = (name: string, notAfterMs: number) => ({
        reference: new TextEncoder().encode(name),
        keyPackage: new TextEncoder().encode(`package ${name}`),
        notAfterMs,
      });
      await storage.keyPackages.publish({
        deviceId: "phone",
        oneTime: [keyPackage("expiring", 1500), keyPackage("lasting", 5000)],
        lastResort: null,
        publishedAtMs: 0,
        oneTimeMax: 10,
      });
      const metrics = createMetrics();
      const result = await sweepRetention(storage, {
        nowMs: 2000,
        retention: { maxAgeMs: 1000, maxEvents: 10 },
        metrics,
      });
      expect(result).toEqual({ sessions: 1, queueItems: 1 });
      expect(await storage.keyPackages.count("phone", 0)).toEqual({
        oneTime: 2,
        lastResort: false,
      });
      expect(await sweepKeyPackages(storage, { nowMs: 2000, metrics })).toBe(1);
      expect(await storage.keyPackages.count("phone", 0)).toEqual({
        oneTime: 1,
        lastResort: false,
      });
      expect((await storage.inboxes.readQueue("phone", 10))?.missed).toEqual({
        count: 1,
        throughPosition: 1,
      });
      expect(
        await metrics.registry.getSingleMetricAsString("parley_retention_swept_total"),
      ).toContain('kind="queue-item"} 1');
      expect(
        await metrics.registry.getSingleMetricAsString("parley_retention_swept_total"),
      ).toContain('kind="key-package"} 1');
    } finally {
      await homeserver.close();
    }
  });

  it("sweeps expired KeyPackages on their own configured interval", async () => {
    // The inbox sweep runs once a minute; with a 100 ms KeyPackage interval the
    // expired package is gone long before that.
    const homeserver = await startHomeserver(
      { ...config(), keyPackageSweepIntervalMs: 100 },
      { logger, nowMs: () => 2000 },
    );
    const { storage } = homeserver;
    try {
      await storage.accounts.create({ localName: "bob", passwordHash: "h", createdAtMs: 0 });
      await storage.devices.create({
        deviceId: "laptop",
        localName: "bob",
        identityRecord: new Uint8Array([1]),
        attestation: new Uint8Array([2]),
        recordSequence: 1,
        createdAtMs: 0,
      });
      const keyPackage = (name: string, notAfterMs: number) => ({
        reference: new TextEncoder().encode(name),
        keyPackage: new TextEncoder().encode(`package ${name}`),
        notAfterMs,
      });
      await storage.keyPackages.publish({
        deviceId: "laptop",
        oneTime: [keyPackage("expired", 1500), keyPackage("lasting", 5000)],
        lastResort: null,
        publishedAtMs: 0,
        oneTimeMax: 10,
      });
      let oneTime = (await storage.keyPackages.count("laptop", 0)).oneTime;
      for (let attempt = 0; attempt < 200 && oneTime !== 1; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        oneTime = (await storage.keyPackages.count("laptop", 0)).oneTime;
      }
      expect(oneTime).toBe(1);
    } finally {
      await homeserver.close();
    }
  });
});
