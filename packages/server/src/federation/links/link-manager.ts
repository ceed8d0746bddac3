// The real server-to-server transport (docs/protocol.md §12.10): one
// authenticated WebSocket per pair of servers, durable per-peer queues in the
// database, heartbeats, reconnection with jittered back-off, and throttling of
// peers that send garbage. Inputs and outputs follow link-api.ts; the
// in-process network keeps the same contract for tests.

import type { Server } from "node:http";
import {
  type ErrorCode,
  type KeyPair,
  ParleyError,
  type ServerName,
  type SignatureProvider,
  toParleyError,
} from "@parley/protocol";
import type { WebSocket } from "ws";
import type { Logger } from "../../observability/logger.ts";
import type { HomeserverMetrics } from "../../observability/metrics.ts";
import type { PeerKeys } from "../discovery/peer-directory.ts";
import { preferredLink } from "./handshake.ts";
import { federationLinkPath, InboundEndpoint } from "./inbound-endpoint.ts";
import { InboundMarks } from "./inbound-peers.ts";
import { defaultLinkLimits, type LinkLimits } from "./limits.ts";
import type { Delivery, FederationLinks, LinkHandlers } from "./link-api.ts";
import { type ConnectionDependencies, LinkConnection } from "./link-connection.ts";
import {
  type LinkClock,
  type LinkRandom,
  type LinkTimers,
  systemClock,
  systemRandom,
  systemTimers,
} from "./link-environment.ts";
import type { LinkFrame } from "./link-frames.ts";
import { createLinkMetrics, type LinkMetrics } from "./link-metrics.ts";
import { Offences } from "./offences.ts";
import { OpenConnections } from "./open-connections.ts";
import { OutboundPump } from "./outbound-pump.ts";
import { DurableWriter } from "./outbound-queue.ts";
import { PeerDialler, type PeerDocument } from "./peer-dialler.ts";
import { type PeerState, PeerTable } from "./peer-table.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export { federationLinkPath } from "./inbound-endpoint.ts";
export type { Delivery, FederationLinks, LinkHandlers } from "./link-api.ts";

export interface LinkManagerOptions {
  /** This server: its name and current signing key. */
  readonly identity: { readonly name: ServerName; readonly keyPair: KeyPair };
  readonly provider: SignatureProvider;
  readonly storage: LinkQueueStorage;
  readonly directory: PeerKeys;
  readonly handlers: LinkHandlers;
  readonly logger: Logger;
  readonly metrics: HomeserverMetrics;
  readonly clock?: LinkClock;
  readonly timers?: LinkTimers;
  readonly random?: LinkRandom;
  readonly limits?: Partial<LinkLimits>;
  /** The path inbound links are accepted on (the federation endpoint's path). */
  readonly path?: string;
  /**
   * Servers the operator blocked (administration/server-block-list.ts): their
   * handshakes are refused `forbidden`, they are never dialled, nothing is
   * sent to them, and a link that is up when they are blocked is closed at
   * their next frame.
   */
  readonly isBlocked?: (peer: ServerName) => boolean;
}

const blockedError = (peer: ServerName): ParleyError =>
  new ParleyError("forbidden", `${peer} is blocked by this server`);

export class LinkManager implements FederationLinks {
  readonly #options: LinkManagerOptions;
  readonly #limits: LinkLimits;
  readonly #clock: LinkClock;
  readonly #timers: LinkTimers;
  readonly #random: LinkRandom;
  readonly #metrics: LinkMetrics;
  readonly #logger: Logger;
  readonly #offences: Offences;
  readonly #writer: DurableWriter;
  readonly #inbound: InboundMarks;
  readonly #pump: OutboundPump;
  readonly #peers: PeerTable;
  readonly #dialler: PeerDialler;
  readonly #endpoint: InboundEndpoint;
  readonly #connections: OpenConnections;
  readonly #connectionDependencies: ConnectionDependencies;
  #closing = false;
  #resuming: Promise<void> = Promise.resolve();

  constructor(options: LinkManagerOptions) {
    this.#options = options;
    this.#limits = { ...defaultLinkLimits, ...options.limits };
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? systemRandom;
    this.#logger = options.logger.child({ component: "federation-links" });
    this.#metrics = createLinkMetrics(options.metrics);
    this.#offences = new Offences(this.#limits, this.#clock, this.#metrics, this.#logger);
    this.#connections = new OpenConnections(this.#metrics);
    this.#peers = new PeerTable(
      options.storage,
      () => this.#inbound,
      () => this.#updateQueueGauges(),
    );
    this.#dialler = new PeerDialler({
      directory: options.directory,
      limits: this.#limits,
      timers: this.#timers,
      random: this.#random,
      logger: this.#logger,
      closing: () => this.#closing,
      blocked: (peer) => this.#blocked(peer),
      open: (peer, state, socket, url, document) =>
        this.#opened(peer, state, socket, url, document),
    });
    this.#endpoint = new InboundEndpoint({
      path: options.path ?? federationLinkPath,
      limits: this.#limits,
      metrics: this.#metrics,
      refusalOf: (address) => this.#refusalOf(address),
      accept: (socket, address) => this.#accepted(socket, address),
    });
    this.#writer = new DurableWriter(options.storage, this.#limits, (outbound) => {
      this.#updateQueueGauges();
      const state = this.#peers.get(outbound.peer as ServerName);
      if (state !== undefined) this.#pump.pump(state.outbound, state.current);
    });
    this.#pump = new OutboundPump({
      storage: options.storage,
      limits: this.#limits,
      clock: this.#clock,
      timers: this.#timers,
      metrics: this.#metrics,
      logger: this.#logger,
      current: (peer) => this.#peers.get(peer as ServerName)?.current ?? null,
    });
    this.#inbound = new InboundMarks({
      storage: options.storage,
      handlers: options.handlers,
      limits: this.#limits,
      metrics: this.#metrics,
      current: (peer) => this.#peers.get(peer)?.current ?? null,
      reset: (peer, error) => this.#resetAfterFailedReceive(peer, error),
    });
    this.#connectionDependencies = {
      identity: options.identity,
      provider: options.provider,
      directory: options.directory,
      clock: this.#clock,
      timers: this.#timers,
      random: this.#random,
      limits: this.#limits,
      logger: this.#logger,
      receivedSequenceOf: async (peer) => {
        await this.#peers.load(peer);
        return this.#inbound.persistedOf(peer);
      },
      refusedForMs: (peer) => this.#offences.serverRefusedForMs(peer),
      blocked: (peer) => this.#blocked(peer),
    };
  }

  /** Registers the inbound endpoint on the HTTP server and redials peers that have queued frames. */
  attach(server: Server): void {
    this.#endpoint.attach(server);
    this.#resuming = this.#dialler.resume(this.#options.storage, (peer) => this.#peers.load(peer));
  }

  connect(peer: ServerName): void {
    if (this.#closing || peer === this.#options.identity.name || this.#blocked(peer)) return;
    void this.#peers.load(peer).then(
      (state) => {
        state.wanted = true;
        this.#dialler.dialIfIdle(peer, state);
      },
      (error: unknown) =>
        this.#logger.error({ err: error, peer }, "cannot load a peer's link state"),
    );
  }

  async send(peer: ServerName, bytes: Uint8Array, delivery: Delivery): Promise<void> {
    if (this.#closing) throw new ParleyError("unavailable", "the links are closing");
    if (bytes.byteLength === 0 || bytes.byteLength > this.#limits.payloadBytesMax) {
      throw new ParleyError(
        "invalid_argument",
        `a frame is 1 to ${this.#limits.payloadBytesMax} bytes`,
      );
    }
    if (peer === this.#options.identity.name) {
      throw new ParleyError("invalid_argument", "a server sends nothing to itself");
    }
    if (this.#blocked(peer)) {
      if (delivery === "durable") throw blockedError(peer);
      this.#metrics.frames.inc({ direction: "out", delivery: "dropped" });
      return;
    }
    if (delivery === "best-effort") {
      this.#pump.sendBestEffort(this.#peers.get(peer)?.current ?? null, bytes);
      return;
    }
    const state = await this.#peers.load(peer);
    await this.#writer.enqueue(state.outbound, bytes);
    this.#dialler.dialIfIdle(peer, state);
  }

  isUp(peer: ServerName): boolean {
    return this.#peers.get(peer)?.up === true;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#resuming.catch(() => {});
    this.#dialler.cancel(this.#peers.values());
    await this.#writer.idle();
    await this.#inbound.idle();
    await this.#pump.idle();
    await this.#connections.closeAll(this.#limits.closeGraceMs);
    this.#endpoint.close();
  }

  #opened(
    peer: ServerName,
    state: PeerState,
    socket: WebSocket,
    url: string,
    document: PeerDocument,
  ): void {
    state.dialling = this.#connections.add(
      new LinkConnection({
        socket,
        role: "initiator",
        openedOrder: this.#connections.nextOrder(),
        remoteAddress: new URL(url).host,
        dialled: { peer, document },
        dependencies: this.#connectionDependencies,
        events: this.#events(),
      }),
    );
  }

  #accepted(socket: WebSocket, address: string): void {
    this.#connections.add(
      new LinkConnection({
        socket,
        role: "responder",
        openedOrder: this.#connections.nextOrder(),
        remoteAddress: address,
        dependencies: this.#connectionDependencies,
        events: this.#events(),
      }),
    );
  }

  #refusalOf(address: string): ErrorCode | null {
    if (this.#closing) return "unavailable";
    if (this.#connections.size >= this.#limits.connectionsMax) return "capacity_exceeded";
    if (this.#offences.addressRefusedForMs(address) > 0) return "rate_limited";
    return null;
  }

  #events() {
    return {
      authenticated: (connection: LinkConnection) => void this.#authenticated(connection),
      frame: (connection: LinkConnection, frame: LinkFrame) => this.#frame(connection, frame),
      heartbeat: (connection: LinkConnection) => this.#heartbeat(connection),
      closed: (connection: LinkConnection) => this.#closed(connection),
      offence: (connection: LinkConnection, code: ErrorCode) =>
        this.#offences.record(connection, code),
    };
  }

  async #authenticated(connection: LinkConnection): Promise<void> {
    const peer = connection.peer;
    if (peer === null) return;
    const state = await this.#peers.load(peer);
    if (connection.isClosed) return;
    if (state.dialling === connection) state.dialling = null;
    if (this.#blocked(peer)) {
      connection.fail(blockedError(peer));
      return;
    }
    const existing = state.current;
    if (existing !== null && existing !== connection && !existing.isClosed) {
      const keep = preferredLink(
        { initiator: this.#initiatorOf(existing, peer), openedOrder: existing.openedOrder },
        { initiator: this.#initiatorOf(connection, peer), openedOrder: connection.openedOrder },
      );
      const loser = keep === "left" ? connection : existing;
      if (loser === connection) {
        connection.closeWith(4409, "a link between these servers exists");
        return;
      }
      state.current = connection;
      existing.closeWith(4409, "a link between these servers exists");
    } else {
      state.current = connection;
    }
    this.#logger.info({ peer, role: connection.role }, "federation link authenticated");
    this.#dialler.linked(state);
    this.#pump.linkStarted(state.outbound, connection.peerReceivedSequence);
    this.#updateQueueGauges();
    if (!state.up) {
      state.up = true;
      this.#metrics.linksUp.inc();
      this.#options.handlers.linkUp(peer);
    }
    this.#pump.pump(state.outbound, connection);
  }

  #initiatorOf(connection: LinkConnection, peer: ServerName): ServerName {
    return connection.role === "initiator" ? this.#options.identity.name : peer;
  }

  #frame(connection: LinkConnection, frame: LinkFrame): void {
    const peer = connection.peer;
    const state = peer === null ? undefined : this.#peers.get(peer);
    if (peer === null || state === undefined) return;
    if (this.#blocked(peer)) {
      // Blocked while the link was up: nothing more from it is handled.
      connection.fail(blockedError(peer));
      return;
    }
    try {
      if (frame.kind === "acknowledge") {
        if (frame.sequence > state.outbound.lastSequence) {
          throw new ParleyError(
            "bad_structure",
            `acknowledged ${frame.sequence}, beyond the last frame sent`,
          );
        }
        if (state.outbound.acknowledge(frame.sequence, this.#clock.nowMs())) {
          this.#pump.acknowledged(state.outbound);
          this.#updateQueueGauges();
          this.#pump.pump(state.outbound, state.current);
        }
      } else if (frame.kind === "durable" || frame.kind === "best-effort") {
        this.#metrics.frames.inc({ direction: "in", delivery: frame.kind });
        this.#metrics.bytes.inc({ direction: "in" }, frame.payload.byteLength);
        this.#inbound.receive(peer, connection, frame);
      }
    } catch (error) {
      this.#offences.record(connection, toParleyError(error).code);
      connection.fail(toParleyError(error));
    }
  }

  #heartbeat(connection: LinkConnection): void {
    const peer = connection.peer;
    const state = peer === null ? undefined : this.#peers.get(peer);
    if (state === undefined || state.current !== connection) return;
    this.#pump.checkRetransmit(state.outbound, connection);
  }

  #closed(connection: LinkConnection): void {
    this.#connections.delete(connection);
    const peer = connection.peer;
    const state = peer === null ? undefined : this.#peers.get(peer);
    if (peer === null || state === undefined) return;
    if (state.dialling === connection) {
      state.dialling = null;
      if (state.current === null) this.#dialler.scheduleReconnect(peer, state);
    }
    if (state.current !== connection) return;
    state.current = null;
    if (state.up) {
      state.up = false;
      this.#metrics.linksUp.dec();
      this.#logger.info({ peer }, "federation link down");
      this.#options.handlers.linkDown(peer);
    }
    this.#dialler.scheduleReconnect(peer, state);
  }

  #blocked(peer: ServerName): boolean {
    return this.#options.isBlocked?.(peer) ?? false;
  }

  #resetAfterFailedReceive(peer: ServerName, error: unknown): void {
    this.#logger.warn(
      { peer, err: error },
      "a federation frame could not be handled; the link restarts to deliver it again",
    );
    const current = this.#peers.get(peer)?.current;
    current?.fail(
      new ParleyError("unavailable", "a frame could not be handled; it will be asked for again"),
    );
  }

  #updateQueueGauges(): void {
    const { frames, bytes } = this.#peers.queuedTotals();
    this.#metrics.queuedFrames.set(frames);
    this.#metrics.queuedBytes.set(bytes);
  }
}
