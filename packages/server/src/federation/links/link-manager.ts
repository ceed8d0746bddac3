// The real server-to-server transport (docs/protocol.md §12.10): one
// authenticated WebSocket per pair of servers, durable per-peer queues in the
// database, heartbeats, reconnection with jittered back-off, and throttling of
// peers that send garbage. Inputs and outputs follow link-api.ts; the
// in-process network keeps the same contract for tests.

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import {
  type ErrorCode,
  type KeyPair,
  ParleyError,
  type ServerName,
  type SignatureProvider,
  toParleyError,
} from "@parley/protocol";
import { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../../observability/logger.ts";
import type { HomeserverMetrics } from "../../observability/metrics.ts";
import type { PeerKeys } from "../discovery/peer-directory.ts";
import { preferredLink } from "./handshake.ts";
import { InboundMarks } from "./inbound-peers.ts";
import { defaultLinkLimits, type LinkLimits } from "./limits.ts";
import type { Delivery, FederationLinks, LinkHandlers } from "./link-api.ts";
import { type ConnectionDependencies, LinkConnection } from "./link-connection.ts";
import {
  type LinkClock,
  type LinkRandom,
  type LinkTimers,
  reconnectDelayMs,
  systemClock,
  systemRandom,
  systemTimers,
} from "./link-environment.ts";
import type { LinkFrame } from "./link-frames.ts";
import { createLinkMetrics, type LinkMetrics } from "./link-metrics.ts";
import { OutboundPump } from "./outbound-pump.ts";
import { DurableWriter, PeerOutbound } from "./outbound-queue.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";
import { Throttle } from "./throttle.ts";

export type { Delivery, FederationLinks, LinkHandlers } from "./link-api.ts";

/** The path of the link endpoint, the federation endpoint's path (§6.2, §12.10.2). */
export const federationLinkPath = "/_parley/federation/v1";

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
}

interface PeerState {
  readonly outbound: PeerOutbound;
  /** The authenticated connection frames travel on, if any. */
  current: LinkConnection | null;
  /** An outbound connection being opened or authenticated. */
  dialling: LinkConnection | null;
  /** A directory lookup or reconnect delay is under way. */
  waiting: boolean;
  reconnectTimer: unknown;
  attempts: number;
  /** `connect` was asked for: keep the link up. */
  wanted: boolean;
  up: boolean;
}

export class LinkManager implements FederationLinks {
  readonly #options: LinkManagerOptions;
  readonly #limits: LinkLimits;
  readonly #clock: LinkClock;
  readonly #timers: LinkTimers;
  readonly #random: LinkRandom;
  readonly #metrics: LinkMetrics;
  readonly #logger: Logger;
  readonly #throttle: Throttle;
  readonly #writer: DurableWriter;
  readonly #inbound: InboundMarks;
  readonly #pump: OutboundPump;
  readonly #peers = new Map<ServerName, PeerState>();
  readonly #loading = new Map<ServerName, Promise<PeerState>>();
  readonly #connections = new Set<LinkConnection>();
  readonly #connectionDependencies: ConnectionDependencies;
  #sockets: WebSocketServer | null = null;
  #openedCount = 0;
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
    this.#throttle = new Throttle(this.#limits);
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
        await this.#peer(peer);
        return this.#inbound.persistedOf(peer);
      },
      refusedForMs: (peer) => this.#throttle.refusedForMs(`server:${peer}`, this.#clock.nowMs()),
    };
  }

  /** Registers the inbound endpoint on the HTTP server and redials peers that have queued frames. */
  attach(server: Server): void {
    const path = this.#options.path ?? federationLinkPath;
    this.#sockets = new WebSocketServer({
      noServer: true,
      maxPayload: this.#limits.payloadBytesMax + 16,
      perMessageDeflate: false,
    });
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const requestPath = (request.url ?? "").split("?")[0];
      if (!requestPath?.startsWith(federationLinkPath)) return; // The client stream's upgrades.
      if (requestPath !== path) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.#upgrade(request, socket, head);
    });
    this.#resuming = this.#resumeQueuedPeers();
  }

  connect(peer: ServerName): void {
    if (this.#closing || peer === this.#options.identity.name) return;
    void this.#peer(peer).then(
      (state) => {
        state.wanted = true;
        this.#dialIfIdle(peer, state);
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
    if (delivery === "best-effort") {
      this.#sendBestEffort(peer, bytes);
      return;
    }
    const state = await this.#peer(peer);
    await this.#writer.enqueue(state.outbound, bytes);
    this.#dialIfIdle(peer, state);
  }

  isUp(peer: ServerName): boolean {
    return this.#peers.get(peer)?.up === true;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#resuming.catch(() => {});
    for (const state of this.#peers.values()) {
      if (state.reconnectTimer !== null) this.#timers.clearTimeout(state.reconnectTimer);
    }
    await this.#writer.idle();
    await this.#inbound.idle();
    await this.#pump.idle();
    const closed = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.isClosed && !this.#connections.has(connection)) resolve();
          const check = setInterval(() => {
            if (!this.#connections.has(connection)) {
              clearInterval(check);
              resolve();
            }
          }, 5);
          check.unref();
        }),
    );
    for (const connection of this.#connections) connection.closeWith(1001, "server shutting down");
    await Promise.race([
      Promise.all(closed),
      new Promise((resolve) => setTimeout(resolve, this.#limits.closeGraceMs).unref()),
    ]);
    this.#sockets?.close();
  }

  #sendBestEffort(peer: ServerName, bytes: Uint8Array): void {
    const current = this.#peers.get(peer)?.current ?? null;
    if (
      current === null ||
      !current.authenticated ||
      current.bufferedAmount > this.#limits.inFlightBytesMax
    ) {
      this.#metrics.frames.inc({ direction: "out", delivery: "dropped" });
      return;
    }
    current.send({ kind: "best-effort", payload: bytes });
    this.#metrics.frames.inc({ direction: "out", delivery: "best-effort" });
    this.#metrics.bytes.inc({ direction: "out" }, bytes.byteLength);
  }

  /** Loads a peer's stored queue once; concurrent callers share the load. */
  #peer(peer: ServerName): Promise<PeerState> {
    const known = this.#peers.get(peer);
    if (known !== undefined) return Promise.resolve(known);
    const loading = this.#loading.get(peer);
    if (loading !== undefined) return loading;
    const load = this.#options.storage
      .loadPeer(peer)
      .then((stored) => {
        const state: PeerState = {
          outbound: new PeerOutbound(peer, stored),
          current: null,
          dialling: null,
          waiting: false,
          reconnectTimer: null,
          attempts: 0,
          wanted: false,
          up: false,
        };
        this.#peers.set(peer, state);
        this.#inbound.seed(peer, stored.receivedSequence);
        this.#updateQueueGauges();
        return state;
      })
      .finally(() => this.#loading.delete(peer));
    this.#loading.set(peer, load);
    return load;
  }

  async #resumeQueuedPeers(): Promise<void> {
    try {
      const peers = await this.#options.storage.peersWithQueuedFrames();
      for (const peer of peers) {
        const state = await this.#peer(peer as ServerName);
        this.#dialIfIdle(peer as ServerName, state);
      }
    } catch (error) {
      this.#logger.error({ err: error }, "cannot resume the durable queues");
    }
  }

  /** Dials unless a link exists, is being opened, or a retry is scheduled. */
  #dialIfIdle(peer: ServerName, state: PeerState): void {
    if (this.#closing || state.current !== null || state.dialling !== null || state.waiting) return;
    if (!state.wanted && state.outbound.queuedFrames === 0) return;
    state.waiting = true;
    void this.#dial(peer, state);
  }

  async #dial(peer: ServerName, state: PeerState): Promise<void> {
    let url: string;
    let document: Awaited<ReturnType<PeerKeys["lookup"]>>;
    try {
      document = await this.#options.directory.lookup(peer);
      url = document.federationEndpoint.replace(/^http/, "ws");
    } catch (error) {
      this.#logger.warn(
        { peer, code: toParleyError(error).code },
        "cannot find a peer's federation endpoint",
      );
      state.waiting = false;
      this.#scheduleReconnect(peer, state);
      return;
    }
    state.waiting = false;
    if (this.#closing || state.current !== null || state.dialling !== null) return;
    const socket = new WebSocket(url, {
      maxPayload: this.#limits.payloadBytesMax + 16,
      handshakeTimeout: this.#limits.handshakeTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    });
    const connection = this.#track(
      new LinkConnection({
        socket,
        role: "initiator",
        openedOrder: this.#nextOrder(),
        remoteAddress: new URL(url).host,
        dialled: { peer, document },
        dependencies: this.#connectionDependencies,
        events: this.#events(),
      }),
    );
    state.dialling = connection;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = request.socket.remoteAddress ?? "unknown";
    const refusal = this.#refusalOf(address);
    if (refusal !== null || this.#sockets === null) {
      this.#metrics.refusals.inc({ code: refusal ?? "unavailable" });
      socket.end(
        `HTTP/1.1 ${refusal === "rate_limited" ? "429 Too Many Requests" : "503 Service Unavailable"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    this.#sockets.handleUpgrade(request, socket, head, (webSocket) => {
      this.#track(
        new LinkConnection({
          socket: webSocket,
          role: "responder",
          openedOrder: this.#nextOrder(),
          remoteAddress: address,
          dependencies: this.#connectionDependencies,
          events: this.#events(),
        }),
      );
    });
  }

  #refusalOf(address: string): ErrorCode | null {
    if (this.#closing) return "unavailable";
    if (this.#connections.size >= this.#limits.connectionsMax) return "capacity_exceeded";
    if (this.#throttle.refusedForMs(`address:${address}`, this.#clock.nowMs()) > 0)
      return "rate_limited";
    return null;
  }

  #track(connection: LinkConnection): LinkConnection {
    this.#connections.add(connection);
    this.#metrics.connectionsOpen.inc({ kind: "federation" });
    this.#metrics.connectionsTotal.inc({ kind: "federation" });
    return connection;
  }

  #nextOrder(): number {
    this.#openedCount += 1;
    return this.#openedCount;
  }

  #events() {
    return {
      authenticated: (connection: LinkConnection) => void this.#authenticated(connection),
      frame: (connection: LinkConnection, frame: LinkFrame) => this.#frame(connection, frame),
      heartbeat: (connection: LinkConnection) => this.#heartbeat(connection),
      closed: (connection: LinkConnection) => this.#closed(connection),
      offence: (connection: LinkConnection, code: ErrorCode) => this.#offence(connection, code),
    };
  }

  async #authenticated(connection: LinkConnection): Promise<void> {
    const peer = connection.peer;
    if (peer === null) return;
    const state = await this.#peer(peer);
    if (connection.isClosed) return;
    if (state.dialling === connection) state.dialling = null;
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
    if (state.reconnectTimer !== null) {
      this.#timers.clearTimeout(state.reconnectTimer);
      state.reconnectTimer = null;
      state.waiting = false;
    }
    state.attempts = 0;
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
      this.#offence(connection, toParleyError(error).code);
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
    this.#metrics.connectionsOpen.dec({ kind: "federation" });
    const peer = connection.peer;
    const state = peer === null ? undefined : this.#peers.get(peer);
    if (peer === null || state === undefined) return;
    if (state.dialling === connection) {
      state.dialling = null;
      if (state.current === null) this.#scheduleReconnect(peer, state);
    }
    if (state.current !== connection) return;
    state.current = null;
    if (state.up) {
      state.up = false;
      this.#metrics.linksUp.dec();
      this.#logger.info({ peer }, "federation link down");
      this.#options.handlers.linkDown(peer);
    }
    this.#scheduleReconnect(peer, state);
  }

  #scheduleReconnect(peer: ServerName, state: PeerState): void {
    if (this.#closing || state.reconnectTimer !== null) return;
    if (!state.wanted && state.outbound.queuedFrames === 0) return;
    const delayMs = reconnectDelayMs(state.attempts, this.#limits, this.#random);
    state.attempts += 1;
    state.waiting = true;
    state.reconnectTimer = this.#timers.setTimeout(() => {
      state.reconnectTimer = null;
      state.waiting = false;
      this.#dialIfIdle(peer, state);
    }, delayMs);
  }

  #offence(connection: LinkConnection, code: ErrorCode): void {
    this.#metrics.refusals.inc({ code });
    const nowMs = this.#clock.nowMs();
    if (connection.authenticated && connection.peer !== null) {
      const periodMs = this.#throttle.penalize(`server:${connection.peer}`, nowMs);
      this.#logger.warn(
        { peer: connection.peer, code, periodMs },
        "federation peer sent a bad frame; refused for a while",
      );
    } else if (connection.role === "responder") {
      this.#throttle.countFailure(`address:${connection.remoteAddress}`, nowMs);
      this.#logger.info(
        { address: connection.remoteAddress, claimed: connection.peer, code },
        "federation handshake refused",
      );
    }
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
    let frames = 0;
    let bytes = 0;
    for (const state of this.#peers.values()) {
      frames += state.outbound.queuedFrames;
      bytes += state.outbound.queuedBytes;
    }
    this.#metrics.queuedFrames.set(frames);
    this.#metrics.queuedBytes.set(bytes);
  }
}
