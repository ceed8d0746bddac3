// The dialling side of links: finds a peer's federation endpoint through the
// directory, opens the WebSocket, and after a failure or a lost link tries
// again with jittered back-off, as long as the link is wanted or frames are
// queued for the peer.

import { type ServerName, toParleyError } from "@parley/protocol";
import { WebSocket } from "ws";
import type { Logger } from "../../observability/logger.ts";
import type { PeerKeys } from "../discovery/peer-directory.ts";
import type { LinkLimits } from "./limits.ts";
import { type LinkRandom, type LinkTimers, reconnectDelayMs } from "./link-environment.ts";
import type { PeerState } from "./peer-table.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export type PeerDocument = Awaited<ReturnType<PeerKeys["lookup"]>>;

export interface PeerDiallerOptions {
  readonly directory: PeerKeys;
  readonly limits: LinkLimits;
  readonly timers: LinkTimers;
  readonly random: LinkRandom;
  readonly logger: Logger;
  /** True once the links are closing: nothing is dialled any more. */
  closing(): boolean;
  /** A blocked server is never dialled. */
  blocked(peer: ServerName): boolean;
  /** Starts the handshake on a socket opened to `peer`; becomes `state.dialling`. */
  open(
    peer: ServerName,
    state: PeerState,
    socket: WebSocket,
    url: string,
    document: PeerDocument,
  ): void;
}

export class PeerDialler {
  readonly #options: PeerDiallerOptions;

  constructor(options: PeerDiallerOptions) {
    this.#options = options;
  }

  /** Dials unless a link exists, is being opened, or a retry is scheduled. */
  dialIfIdle(peer: ServerName, state: PeerState): void {
    if (this.#options.closing() || this.#options.blocked(peer)) return;
    if (state.current !== null || state.dialling !== null || state.waiting) return;
    if (!state.wanted && state.outbound.queuedFrames === 0) return;
    state.waiting = true;
    void this.#dial(peer, state);
  }

  scheduleReconnect(peer: ServerName, state: PeerState): void {
    if (this.#options.closing() || state.reconnectTimer !== null) return;
    if (!state.wanted && state.outbound.queuedFrames === 0) return;
    const { limits, random, timers } = this.#options;
    const delayMs = reconnectDelayMs(state.attempts, limits, random);
    state.attempts += 1;
    state.waiting = true;
    state.reconnectTimer = timers.setTimeout(() => {
      state.reconnectTimer = null;
      state.waiting = false;
      this.dialIfIdle(peer, state);
    }, delayMs);
  }

  /** A link to the peer came up: no retry is pending, and back-off starts over. */
  linked(state: PeerState): void {
    if (state.reconnectTimer !== null) {
      this.#options.timers.clearTimeout(state.reconnectTimer);
      state.reconnectTimer = null;
      state.waiting = false;
    }
    state.attempts = 0;
  }

  /** At start: dials every peer that has frames queued from before. */
  async resume(
    storage: Pick<LinkQueueStorage, "peersWithQueuedFrames">,
    load: (peer: ServerName) => Promise<PeerState>,
  ): Promise<void> {
    try {
      for (const peer of await storage.peersWithQueuedFrames()) {
        const name = peer as ServerName;
        this.dialIfIdle(name, await load(name));
      }
    } catch (error) {
      this.#options.logger.error({ err: error }, "cannot resume the durable queues");
    }
  }

  /** Cancels every pending retry (the links are closing). */
  cancel(states: Iterable<PeerState>): void {
    for (const state of states) {
      if (state.reconnectTimer !== null) this.#options.timers.clearTimeout(state.reconnectTimer);
    }
  }

  async #dial(peer: ServerName, state: PeerState): Promise<void> {
    let url: string;
    let document: PeerDocument;
    try {
      document = await this.#options.directory.lookup(peer);
      url = document.federationEndpoint.replace(/^http/, "ws");
    } catch (error) {
      this.#options.logger.warn(
        { peer, code: toParleyError(error).code },
        "cannot find a peer's federation endpoint",
      );
      state.waiting = false;
      this.scheduleReconnect(peer, state);
      return;
    }
    state.waiting = false;
    if (this.#options.closing() || state.current !== null || state.dialling !== null) return;
    const socket = new WebSocket(url, {
      maxPayload: this.#options.limits.payloadBytesMax + 16,
      handshakeTimeout: this.#options.limits.handshakeTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    });
    this.#options.open(peer, state, socket, url, document);
  }
}
