// Wires a homeserver process from its configuration: data directory, storage,
// migrations, server key, HTTP server, retention sweeps. `main.ts` adds the
// signals; tests can run this in-process. Shutdown order: stop accepting and
// let requests finish (Fastify close), drain the federation driver (a final
// flush) and close its links, stop and drain background work, then close the
// database, so no write is cut off halfway.

import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { keyPairFromSeed } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { type AdminCredential, loadOrCreateAdminToken } from "../administration/admin-token.ts";
import { ServerBlockList } from "../administration/server-block-list.ts";
import type { HomeserverConfig } from "../config/load.ts";
import { ServerCertificateKeys } from "../federation/certificate-keys.ts";
import { DeviceDirectory, type DeviceDirectoryOptions } from "../federation/device-directory.ts";
import {
  fetchDeviceList,
  localDeviceList,
  registerDeviceListRoute,
} from "../federation/discovery/device-list-route.ts";
import { fetchDocumentBytes } from "../federation/discovery/document-fetch.ts";
import {
  type PeerAddresses,
  redirectingFetcher,
  redirectingPeerKeys,
} from "../federation/discovery/peer-addresses.ts";
import {
  keyDocumentBytesMax,
  PeerDirectory,
  type PeerKeys,
  peerDirectoryDefaults,
} from "../federation/discovery/peer-directory.ts";
import { registerKeyDocumentRoute } from "../federation/discovery/well-known-route.ts";
import {
  FederationRuntime,
  type FederationRuntimeOptions,
} from "../federation/federation-runtime.ts";
import { createFrameCounts } from "../federation/frame-counts.ts";
import { LinkManager } from "../federation/links/link-manager.ts";
import { DatabaseFederationStorage } from "../federation/storage/database-federation-storage.ts";
import { type ClientApi, createClientApi } from "../http/client-api.ts";
import { bundledWebClientDirectory, registerWebClient } from "../http/web-client.ts";
import {
  createServerSigner,
  loadOrCreateServerKey,
  type ServerSigner,
} from "../identity/server-key.ts";
import {
  keyPackageSweepIntervalMsDefault,
  retentionSweepIntervalMs,
  shutdownGraceMs,
} from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type HomeserverMetrics } from "../observability/metrics.ts";
import { openStorage } from "../storage/open.ts";
import type { ServerSigningKey } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { createProcessServer, type ProcessServer } from "./app.ts";
import { InFlightWork } from "./in-flight.ts";
import { sweepKeyPackages, sweepRetention } from "./retention-sweep.ts";

export interface RunningHomeserver {
  readonly serverName: string;
  /** The bound address, e.g. http://127.0.0.1:8008. */
  readonly url: string;
  readonly port: number;
  readonly signer: ServerSigner;
  readonly storage: Storage;
  readonly app: ProcessServer;
  readonly clientApi: ClientApi;
  /** Where the operator's admin token is kept (docs/protocol.md §10.11). */
  readonly adminTokenPath: string;
  /** Homeservers this server refuses device records from; federation consults it. */
  readonly blockList: ServerBlockList;
  /** Graceful stop; resolves when the database is closed. Safe to call twice. */
  close(): Promise<void>;
}

export interface HomeserverEnvironment {
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** Overrides of the federation's storage and links (tests run several servers in one process). */
  readonly federation?: Pick<FederationRuntimeOptions, "storage" | "transport" | "certificateKeys">;
  /** How long other servers' device lists are believed (§12.14.2); tests shorten it. */
  readonly deviceListLifetimeMs?: number;
  /** Where other servers' device lists and keys come from, when not from discovery (tests). */
  readonly deviceLists?: Pick<DeviceDirectoryOptions, "keys" | "fetchList">;
}

/** Closes the HTTP server; connections still busy after the grace period are cut. */
async function closeWithin(app: ProcessServer, graceMs: number, logger: Logger): Promise<void> {
  const timer = setTimeout(() => {
    logger.warn("requests still running after the grace period; closing their connections");
    app.server.closeAllConnections();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

export async function startHomeserver(
  config: HomeserverConfig,
  environment: HomeserverEnvironment,
): Promise<RunningHomeserver> {
  const { logger } = environment;
  await mkdir(config.dataDirectory, { recursive: true });
  const storage = await openStorage(config.storage, {
    onBackgroundError: (error) => logger.error({ err: error }, "database connection error"),
  });
  try {
    const applied = await storage.migrations.migrateToLatest();
    if (applied.length > 0) {
      logger.info({ migrations: applied }, "database migrated");
    }
    const key = await loadOrCreateServerKey(storage, environment.nowMs());
    const credential = await loadOrCreateAdminToken(config.dataDirectory);
    return await listen(config, environment, storage, key, credential);
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/** The federation's storage and links: the environment's, else the defaults (see FederationRuntime). */
function federationParts(
  environment: HomeserverEnvironment,
  storage: Storage,
  links: {
    key: ServerSigningKey;
    metrics: HomeserverMetrics;
    server: () => Server;
    directory: PeerKeys;
    blockList: ServerBlockList;
  },
): Pick<FederationRuntimeOptions, "storage" | "transport" | "certificateKeys"> {
  const { directory } = links;
  const keyPair = keyPairFromSeed(nodeSignatureProvider, links.key.secretSeed);
  return {
    storage: () => DatabaseFederationStorage.open(storage.database),
    // WebSocket links with a signed handshake, accepted on the HTTP server.
    transport: (self, handlers) => {
      const manager = new LinkManager({
        identity: {
          name: self,
          keyPair,
        },
        provider: nodeSignatureProvider,
        storage: storage.federationLinks,
        directory,
        handlers,
        logger: environment.logger,
        metrics: links.metrics,
        isBlocked: (peer) => links.blockList.isBlocked(peer),
      });
      manager.attach(links.server());
      return manager;
    },
    certificateKeys: (self) =>
      new ServerCertificateKeys({
        self,
        keyPair,
        provider: nodeSignatureProvider,
        directory,
        nowMs: environment.nowMs,
        logger: environment.logger,
      }),
    ...environment.federation,
  };
}

/**
 * One discovery cache for the links' handshakes, the control certificates'
 * signers and the device lists' attestations.
 */
function peerDirectoryOf(environment: HomeserverEnvironment, peerAddresses: PeerAddresses) {
  return redirectingPeerKeys(
    new PeerDirectory({
      provider: nodeSignatureProvider,
      nowMs: environment.nowMs,
      fetchDocument: redirectingFetcher(
        (url) => fetchDocumentBytes(url, keyDocumentBytesMax, peerDirectoryDefaults.fetchTimeoutMs),
        peerAddresses,
      ),
    }),
    peerAddresses,
  );
}

async function listen(
  config: HomeserverConfig,
  environment: HomeserverEnvironment,
  storage: Storage,
  key: ServerSigningKey,
  credential: AdminCredential,
): Promise<RunningHomeserver> {
  const { logger } = environment;
  const signer = createServerSigner(key);
  const metrics = createMetrics();
  const background = new InFlightWork();
  let shuttingDown = false;
  // Loaded before federation starts: links consult it from their first handshake.
  const blockList = new ServerBlockList(storage);
  await blockList.start((error) => logger.warn({ err: error }, "refreshing the block list failed"));
  const peerAddresses = config.federation.peerAddresses ?? new Map();
  const directory = peerDirectoryOf(environment, peerAddresses);
  const parts = federationParts(environment, storage, {
    key,
    metrics,
    server: () => app.server,
    directory,
    blockList,
  });
  const devices = new DeviceDirectory({
    provider: nodeSignatureProvider,
    nowMs: environment.nowMs,
    self: () => clientApi.identity()?.name ?? null,
    keys: directory,
    fetchList: fetchDeviceList(peerAddresses),
    ...environment.deviceLists,
    localList: (user) => localDeviceList(storage, user),
    logger: logger.child({ component: "device-directory" }),
    ...(environment.deviceListLifetimeMs === undefined
      ? {}
      : { listLifetimeMs: environment.deviceListLifetimeMs }),
  });
  const federation = new FederationRuntime({
    logger,
    nowMs: environment.nowMs,
    tickIntervalMs: config.federation.tickIntervalMs,
    isBlocked: (server) => blockList.isBlocked(server),
    frameCounts: createFrameCounts(metrics.registry),
    ...(config.federation.keyPackageClaimTimeoutMs === undefined
      ? {}
      : { keyPackageClaimTimeoutMs: config.federation.keyPackageClaimTimeoutMs }),
    ...(parts.storage === undefined ? {} : { storage: parts.storage }),
    ...(parts.certificateKeys === undefined ? {} : { certificateKeys: parts.certificateKeys }),
    // Without federation the core still runs every room, alone: it has no links.
    ...(config.federation.enabled && parts.transport !== undefined
      ? { transport: parts.transport }
      : {}),
  });
  const app = createProcessServer({
    storage,
    metrics,
    logger,
    shuttingDown: () => shuttingDown,
    federationHealthy: () => federation.failure === null,
  });
  // The client API registers its routes and WebSocket endpoint before listening.
  const clientApi = await createClientApi({
    app,
    storage,
    config,
    logger,
    metrics,
    nowMs: environment.nowMs,
    currentKey: key,
    allKeys: await storage.serverKeys.list(),
    administration: { credential, blockList },
    federation,
    devices,
  });
  // Peers find this server's keys and federation endpoint here (§12.10.1).
  registerKeyDocumentRoute(app, () => clientApi.identity()?.keyDocument.bytes ?? null);
  // And its users' device lists (§12.14.1).
  registerDeviceListRoute(app, {
    storage,
    provider: nodeSignatureProvider,
    nowMs: environment.nowMs,
    identity: () => clientApi.identity(),
  });
  // The browser client at `/`; the routes above take precedence over its fallback.
  await registerWebClient(app, { directory: bundledWebClientDirectory, logger });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const serverName = config.serverName ?? `localhost:${address.port}`;
  clientApi.setServerName(serverName);
  await clientApi.startFederation();

  // Each sweep has its own timer and skips a tick while its previous run is
  // still going, rather than piling up behind a slow database.
  function scheduleSweep(kind: string, intervalMs: number, task: () => Promise<unknown>) {
    let running = false;
    const timer = setInterval(() => {
      if (running || !background.accepting) {
        return;
      }
      running = true;
      background
        .run(task)
        .catch((error: unknown) => logger.error({ err: error, kind }, "retention sweep failed"))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return timer;
  }
  const sweeps = [
    scheduleSweep("inbox", retentionSweepIntervalMs, () =>
      sweepRetention(storage, {
        nowMs: environment.nowMs(),
        retention: config.inboxRetention,
        metrics,
      }),
    ),
    scheduleSweep(
      "key-package",
      config.keyPackageSweepIntervalMs ?? keyPackageSweepIntervalMsDefault,
      () => sweepKeyPackages(storage, { nowMs: environment.nowMs(), metrics }),
    ),
  ];

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    shuttingDown = true;
    for (const sweep of sweeps) {
      clearInterval(sweep);
    }
    blockList.stop();
    // Sockets first (they are not requests the HTTP server waits for), then
    // federation (its driver drains with a final flush, then its links close:
    // upgraded sockets the HTTP server would otherwise wait for; requests
    // still waiting on it are answered unavailable), then requests, then the
    // commits those requests wait for.
    clientApi.closeSockets();
    await federation.close();
    await closeWithin(app, shutdownGraceMs, logger);
    await clientApi.close();
    if (!(await background.drain(shutdownGraceMs))) {
      logger.warn("background work did not finish within the grace period");
    }
    await storage.close();
  }

  return {
    serverName,
    url: `http://${host}:${address.port}`,
    port: address.port,
    signer,
    storage,
    app,
    clientApi,
    adminTokenPath: credential.path,
    blockList,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
