// links: durable frames per second between two homeservers' link managers on
// loopback, each with its own SQLite file (WAL, as the homeserver runs it),
// the signed handshake, stored-before-resolve sends and acknowledgements
// after the receiver's mark is stored. Both servers run in this one process,
// so they share its event loop: the figure is a floor for two processes.
// Also best-effort frames per second over the same link. Loops are bounded by
// counts and deadlines.

import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createServerKeyDocument,
  keyPairFromSeed,
  parseServerName,
  type ServerName,
  sha256,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import {
  createLogger,
  createMetrics,
  createProcessServer,
  type LinkHandlers,
  LinkManager,
  openStorage,
  PeerDirectory,
  registerKeyDocumentRoute,
} from "@parley/server";
import { type Benchmark, type Figure, median } from "./harness.ts";

interface Scale {
  readonly rounds: number;
  readonly durableFrames: number;
  readonly bestEffortFrames: number;
  readonly payloadBytes: number;
  /** Sends awaiting their store at once, as a busy federation core would have. */
  readonly sendsInFlight: number;
  readonly deadlineMs: number;
}

const full: Scale = {
  rounds: 3,
  durableFrames: 20_000,
  bestEffortFrames: 50_000,
  payloadBytes: 256,
  sendsInFlight: 1_000,
  deadlineMs: 120_000,
};

const smoke: Scale = {
  rounds: 1,
  durableFrames: 200,
  bestEffortFrames: 200,
  payloadBytes: 256,
  sendsInFlight: 50,
  deadlineMs: 30_000,
};

const provider = nodeSignatureProvider;

interface Side {
  readonly name: ServerName;
  readonly links: LinkManager;
  received: number;
  close(): Promise<void>;
}

async function startSide(label: string, directory: string): Promise<Side> {
  const keyPair = keyPairFromSeed(
    provider,
    sha256(new TextEncoder().encode(`bench links ${label}`)),
  );
  const storage = await openStorage({ kind: "sqlite", path: join(directory, `${label}.sqlite`) });
  await storage.migrations.migrateToLatest();
  const metrics = createMetrics();
  const logger = createLogger("silent");
  const app = createProcessServer({ storage, metrics, logger, shuttingDown: () => false });
  let document: Uint8Array | null = null;
  registerKeyDocumentRoute(app, () => document);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const name = parseServerName(`127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  const nowMs = Date.now();
  document = createServerKeyDocument(
    provider,
    {
      server: name,
      serial: 1,
      issuedAtMs: nowMs,
      federationEndpoint: `http://${name}/_parley/federation/v1`,
      keys: [{ publicKey: keyPair.publicKey, validFromMs: nowMs - 60_000, validUntilMs: null }],
    },
    [keyPair],
  );
  const side: { received: number } = { received: 0 };
  const handlers: LinkHandlers = {
    linkUp() {},
    linkDown() {},
    receive() {
      side.received += 1;
      return Promise.resolve();
    },
  };
  const links = new LinkManager({
    identity: { name, keyPair },
    provider,
    storage: storage.federationLinks,
    directory: new PeerDirectory({ provider, nowMs: () => Date.now() }),
    handlers,
    logger,
    metrics,
  });
  links.attach(app.server);
  return Object.assign(side, {
    name,
    links,
    async close() {
      await links.close();
      await app.close();
      await storage.close();
    },
  });
}

async function waitFor(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`links benchmark: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Sends `count` durable frames with at most `inFlight` sends pending; returns frames/s until all arrived. */
async function durableRate(from: Side, to: Side, scale: Scale): Promise<number> {
  const payload = new Uint8Array(scale.payloadBytes).fill(7);
  const target = to.received + scale.durableFrames;
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < scale.durableFrames) {
      next += 1;
      await from.links.send(to.name, payload, "durable");
    }
  };
  await Promise.all(Array.from({ length: scale.sendsInFlight }, worker));
  await waitFor(() => to.received >= target, scale.deadlineMs, "durable frames");
  return (scale.durableFrames * 1000) / (performance.now() - start);
}

async function bestEffortRate(from: Side, to: Side, scale: Scale): Promise<number> {
  const payload = new Uint8Array(scale.payloadBytes).fill(9);
  const before = to.received;
  const start = performance.now();
  for (let index = 0; index < scale.bestEffortFrames; index += 1) {
    await from.links.send(to.name, payload, "best-effort");
    // Yield now and then so the socket drains instead of dropping frames.
    if (index % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
  }
  // Best-effort frames may be dropped under pressure; count what arrived.
  const settleDeadline = Date.now() + 2_000;
  let last = -1;
  while (to.received !== last && Date.now() < settleDeadline) {
    last = to.received;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ((to.received - before) * 1000) / (performance.now() - start);
}

export const linksBenchmark: Benchmark = {
  name: "links",
  description:
    "durable and best-effort frames/s between two link managers on loopback (SQLite, one process)",
  async run(options) {
    const scale = options.smoke ? smoke : full;
    const directory = await mkdtemp(join(tmpdir(), "parley-bench-links-"));
    const alpha = await startSide("alpha", directory);
    const beta = await startSide("beta", directory);
    try {
      alpha.links.connect(beta.name);
      await waitFor(
        () => alpha.links.isUp(beta.name) && beta.links.isUp(alpha.name),
        10_000,
        "the link",
      );
      const durable: number[] = [];
      const bestEffort: number[] = [];
      for (let round = 0; round < scale.rounds; round += 1) {
        durable.push(await durableRate(alpha, beta, scale));
        bestEffort.push(await bestEffortRate(alpha, beta, scale));
      }
      const figures: Figure[] = [
        {
          name: `durable frames (${scale.payloadBytes} B), stored and acknowledged`,
          value: median(durable),
          unit: "frames/s",
          note: `median of ${scale.rounds} rounds of ${scale.durableFrames}`,
        },
        {
          name: `best-effort frames (${scale.payloadBytes} B) received`,
          value: median(bestEffort),
          unit: "frames/s",
          note: `median of ${scale.rounds} rounds of ${scale.bestEffortFrames}`,
        },
      ];
      return figures;
    } finally {
      await alpha.close();
      await beta.close();
      await rm(directory, { recursive: true, force: true });
    }
  },
};
