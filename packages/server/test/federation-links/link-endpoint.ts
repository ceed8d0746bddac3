// A homeserver-like endpoint for link tests: its own SQLite file, the process
// server with the well-known key document route, a peer directory and a
// LinkManager on 127.0.0.1. Stopping keeps the file, the key and the port, so
// starting again is a restart of the same server.

import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  createServerKeyDocument,
  type KeyPair,
  keyPairFromSeed,
  parseServerName,
  type ServerName,
  sha256,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { PeerDirectory } from "../../src/federation/discovery/peer-directory.ts";
import { registerKeyDocumentRoute } from "../../src/federation/discovery/well-known-route.ts";
import type { LinkLimits } from "../../src/federation/links/limits.ts";
import { LinkManager } from "../../src/federation/links/link-manager.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics, type HomeserverMetrics } from "../../src/observability/metrics.ts";
import { createProcessServer } from "../../src/process/app.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Storage } from "../../src/storage/storage.ts";
import { RecordingHandlers } from "./recording-handlers.ts";

export const provider = nodeSignatureProvider;

/** Short timers, so link tests see heartbeats, timeouts and back-off within a second. */
export const fastLimits: Partial<LinkLimits> = {
  handshakeTimeoutMs: 2_000,
  heartbeatIntervalMs: 200,
  // Long enough that a loaded machine's event-loop stalls do not drop links.
  heartbeatTimeoutMs: 2_000,
  retransmitTimeoutMs: 2_000,
  reconnectDelayMinMs: 20,
  reconnectDelayMaxMs: 200,
  throttleMinMs: 60_000,
  closeGraceMs: 1_000,
};

export function keyOf(label: string): KeyPair {
  return keyPairFromSeed(provider, sha256(new TextEncoder().encode(`link test key: ${label}`)));
}

export function keyDocumentFor(
  name: ServerName,
  keyPair: KeyPair,
  issuedAtMs = Date.now(),
): Uint8Array {
  return createServerKeyDocument(
    provider,
    {
      server: name,
      serial: 1,
      issuedAtMs,
      federationEndpoint: `http://${name}/_parley/federation/v1`,
      keys: [
        { publicKey: keyPair.publicKey, validFromMs: issuedAtMs - 60_000, validUntilMs: null },
      ],
    },
    [keyPair],
  );
}

export interface EndpointOptions {
  readonly handlers?: RecordingHandlers;
  readonly limits?: Partial<LinkLimits>;
  /** What the well-known route serves instead of the endpoint's own document. */
  readonly servedDocument?: (name: ServerName) => Uint8Array;
  /** The operator's block list, as the link manager consults it. */
  readonly isBlocked?: (peer: ServerName) => boolean;
}

export class LinkEndpoint {
  readonly label: string;
  readonly keyPair: KeyPair;
  readonly #directory: string;
  #port = 0;
  name: ServerName = parseServerName("unstarted.invalid");
  handlers = new RecordingHandlers();
  links: LinkManager | null = null;
  storage: Storage | null = null;
  metrics: HomeserverMetrics | null = null;
  readonly logLines: string[] = [];
  #stopApp: (() => Promise<void>) | null = null;

  private constructor(label: string, directory: string) {
    this.label = label;
    this.keyPair = keyOf(label);
    this.#directory = directory;
  }

  static async create(label: string): Promise<LinkEndpoint> {
    return new LinkEndpoint(label, await mkdtemp(join(tmpdir(), `parley-links-${label}-`)));
  }

  /** An endpoint over an existing directory, on a given port (0: any), for a process restarted by a test. */
  static at(label: string, directory: string, port: number): LinkEndpoint {
    const endpoint = new LinkEndpoint(label, directory);
    endpoint.#port = port;
    return endpoint;
  }

  get running(): boolean {
    return this.links !== null;
  }

  get port(): number {
    return this.#port;
  }

  async start(options: EndpointOptions = {}): Promise<this> {
    this.handlers = options.handlers ?? new RecordingHandlers();
    const storage = await openStorage({
      kind: "sqlite",
      path: join(this.#directory, "server.sqlite"),
    });
    await storage.migrations.migrateToLatest();
    const metrics = createMetrics();
    const lines = this.logLines;
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk, _encoding, done) {
          if (lines.length < 10_000) lines.push(String(chunk));
          done();
        },
      }),
    );
    const app = createProcessServer({ storage, metrics, logger, shuttingDown: () => false });
    let document: Uint8Array | null = null;
    registerKeyDocumentRoute(app, () => document);
    await app.listen({ host: "127.0.0.1", port: this.#port });
    this.#port = (app.server.address() as AddressInfo).port;
    this.name = parseServerName(`127.0.0.1:${this.#port}`);
    document = options.servedDocument?.(this.name) ?? keyDocumentFor(this.name, this.keyPair);
    const links = new LinkManager({
      identity: { name: this.name, keyPair: this.keyPair },
      provider,
      storage: storage.federationLinks,
      directory: new PeerDirectory({ provider, nowMs: () => Date.now() }),
      handlers: this.handlers,
      logger,
      metrics,
      limits: { ...fastLimits, ...options.limits },
      ...(options.isBlocked === undefined ? {} : { isBlocked: options.isBlocked }),
    });
    links.attach(app.server);
    this.links = links;
    this.storage = storage;
    this.metrics = metrics;
    this.#stopApp = async () => {
      await links.close();
      await app.close();
      await storage.close();
    };
    return this;
  }

  async stop(): Promise<void> {
    const stop = this.#stopApp;
    this.#stopApp = null;
    this.links = null;
    await stop?.();
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.#directory, { recursive: true, force: true });
  }

  requireLinks(): LinkManager {
    if (this.links === null) throw new Error(`${this.label} is not running`);
    return this.links;
  }
}
