// Several servers' links inside one process, keeping the same contract as the
// real `LinkManager` (link-api.ts) without sockets, keys or a database: for
// tests of the code above the transport, with explicit control over which
// links are up. Durable queues and receive high-water marks belong to the
// network, not to an endpoint, so a server that leaves and joins again finds
// its queues as a restarted server finds them in its database.

import { ParleyError, type ServerName } from "@parley/protocol";
import { defaultLinkLimits } from "./limits.ts";
import type { Delivery, FederationLinks, LinkHandlers } from "./link-api.ts";

export interface InProcessNetworkOptions {
  /** Durable frames one sender may have queued for one peer. */
  readonly queueFramesMax?: number;
  /** Bytes of durable frames one sender may have queued for one peer. */
  readonly queueBytesMax?: number;
  /** Receives handed to a handler and not yet resolved, per peer. */
  readonly receiveWindowFrames?: number;
  /** How long a link reset by a failed receive stays down. */
  readonly resetDelayMs?: number;
}

interface QueuedFrame {
  readonly sequence: number;
  readonly bytes: Uint8Array;
}

/** One direction's durable state: the sender's queue and the receiver's mark. */
interface DirectedQueue {
  readonly frames: QueuedFrame[];
  queuedBytes: number;
  lastSequence: number;
  /** The receiver's high-water mark: every sequence up to it reached its handler. */
  receivedSequence: number;
  /** Highest sequence handed to the receiver on the current link. */
  calledSequence: number;
  /** Sequences whose receive resolved, above `receivedSequence`. */
  readonly resolved: Set<number>;
}

interface PairState {
  up: boolean;
  /** Bumped whenever the link goes down, so late answers of an old link are ignored. */
  generation: number;
  wanted: boolean;
  cut: boolean;
  /** A failed receive reset the link; it comes back when the timer fires. */
  resetting: boolean;
}

function pairKey(left: ServerName, right: ServerName): string {
  return left < right ? `${left}\n${right}` : `${right}\n${left}`;
}

export class InProcessNetwork {
  readonly #options: Required<InProcessNetworkOptions>;
  readonly #endpoints = new Map<ServerName, InProcessLinks>();
  readonly #queues = new Map<string, DirectedQueue>();
  readonly #pairs = new Map<string, PairState>();

  constructor(options: InProcessNetworkOptions = {}) {
    this.#options = {
      queueFramesMax: options.queueFramesMax ?? defaultLinkLimits.queueFramesMax,
      queueBytesMax: options.queueBytesMax ?? defaultLinkLimits.queueBytesMax,
      receiveWindowFrames: options.receiveWindowFrames ?? defaultLinkLimits.receiveWindowFrames,
      resetDelayMs: options.resetDelayMs ?? 10,
    };
  }

  /** Starts a server on the network (again, after `close`); its queues are as it left them. */
  join(server: ServerName, handlers: LinkHandlers): InProcessLinks {
    if (this.#endpoints.has(server)) {
      throw new ParleyError("invalid_argument", `${server} is already on the network`);
    }
    const endpoint = new InProcessLinks(this, server, handlers);
    this.#endpoints.set(server, endpoint);
    for (const other of this.#endpoints.keys()) {
      if (other !== server) this.#refresh(server, other);
    }
    return endpoint;
  }

  /** Takes the link between two servers down and keeps it down until `heal`. */
  cut(left: ServerName, right: ServerName): void {
    this.#pair(left, right).cut = true;
    this.#refresh(left, right);
  }

  heal(left: ServerName, right: ServerName): void {
    this.#pair(left, right).cut = false;
    this.#refresh(left, right);
  }

  /** Durable frames `from` has queued for `to` (sent or not, unacknowledged). */
  queuedFrames(from: ServerName, to: ServerName): number {
    return this.#queue(from, to).frames.length;
  }

  /** @internal Called by an endpoint. */
  connect(from: ServerName, to: ServerName): void {
    this.#pair(from, to).wanted = true;
    this.#refresh(from, to);
  }

  /** @internal */
  isUp(from: ServerName, to: ServerName): boolean {
    return this.#pair(from, to).up;
  }

  /** @internal */
  sendDurable(from: ServerName, to: ServerName, bytes: Uint8Array): void {
    const queue = this.#queue(from, to);
    if (
      queue.frames.length >= this.#options.queueFramesMax ||
      queue.queuedBytes + bytes.byteLength > this.#options.queueBytesMax
    ) {
      throw new ParleyError("capacity_exceeded", `the durable queue to ${to} is full`);
    }
    queue.lastSequence += 1;
    queue.frames.push({ sequence: queue.lastSequence, bytes: Uint8Array.from(bytes) });
    queue.queuedBytes += bytes.byteLength;
    this.connect(from, to);
    this.#pump(from, to);
  }

  /** @internal */
  sendBestEffort(from: ServerName, to: ServerName, bytes: Uint8Array): void {
    const pair = this.#pair(from, to);
    const receiver = this.#endpoints.get(to);
    if (!pair.up || receiver === undefined) return;
    const copy = Uint8Array.from(bytes);
    const generation = pair.generation;
    // Deferred like every delivery, so a handler never runs inside the sender's call.
    queueMicrotask(() => {
      if (pair.generation !== generation || !pair.up) return;
      receiver.handlers.receive(from, copy).catch(() => {
        // A best-effort frame is never retried; the protocol repairs its loss.
      });
    });
  }

  /** @internal */
  leave(server: ServerName): void {
    this.#endpoints.delete(server);
    for (const other of this.#endpoints.keys()) this.#refresh(server, other);
  }

  #pair(left: ServerName, right: ServerName): PairState {
    const key = pairKey(left, right);
    let pair = this.#pairs.get(key);
    if (pair === undefined) {
      pair = { up: false, generation: 0, wanted: false, cut: false, resetting: false };
      this.#pairs.set(key, pair);
    }
    return pair;
  }

  #queue(from: ServerName, to: ServerName): DirectedQueue {
    const key = `${from}\n${to}`;
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = {
        frames: [],
        queuedBytes: 0,
        lastSequence: 0,
        receivedSequence: 0,
        calledSequence: 0,
        resolved: new Set(),
      };
      this.#queues.set(key, queue);
    }
    return queue;
  }

  /** Brings the pair's link to the state its conditions call for, telling both handlers. */
  #refresh(left: ServerName, right: ServerName): void {
    const pair = this.#pair(left, right);
    const leftEndpoint = this.#endpoints.get(left);
    const rightEndpoint = this.#endpoints.get(right);
    const pending =
      this.#queue(left, right).frames.length > 0 || this.#queue(right, left).frames.length > 0;
    const shouldBeUp =
      leftEndpoint !== undefined &&
      rightEndpoint !== undefined &&
      !pair.cut &&
      !pair.resetting &&
      (pair.wanted || pending);
    if (shouldBeUp && !pair.up) {
      pair.up = true;
      for (const [from, to] of [
        [left, right],
        [right, left],
      ] as const) {
        const queue = this.#queue(from, to);
        queue.calledSequence = queue.receivedSequence;
        queue.resolved.clear();
      }
      leftEndpoint.handlers.linkUp(right);
      rightEndpoint.handlers.linkUp(left);
      this.#pump(left, right);
      this.#pump(right, left);
    } else if (!shouldBeUp && pair.up) {
      pair.up = false;
      pair.generation += 1;
      leftEndpoint?.handlers.linkDown(right);
      rightEndpoint?.handlers.linkDown(left);
    }
  }

  /** Hands queued frames to the receiver, up to the window, acknowledging as receives resolve. */
  #pump(from: ServerName, to: ServerName): void {
    const pair = this.#pair(from, to);
    const receiver = this.#endpoints.get(to);
    if (!pair.up || receiver === undefined) return;
    const queue = this.#queue(from, to);
    const generation = pair.generation;
    for (const frame of queue.frames) {
      if (frame.sequence <= queue.calledSequence) continue;
      if (queue.calledSequence - queue.receivedSequence >= this.#options.receiveWindowFrames) break;
      queue.calledSequence = frame.sequence;
      const copy = Uint8Array.from(frame.bytes);
      // Deferred, so both sides have seen `linkUp` before any frame arrives.
      queueMicrotask(() => {
        if (pair.generation !== generation) return;
        receiver.handlers.receive(from, copy).then(
          () => this.#resolved(from, to, frame.sequence, generation),
          () => this.#failed(from, to, generation),
        );
      });
    }
  }

  #resolved(from: ServerName, to: ServerName, sequence: number, generation: number): void {
    const pair = this.#pair(from, to);
    if (pair.generation !== generation) return; // The link this answer travelled on is gone.
    const queue = this.#queue(from, to);
    queue.resolved.add(sequence);
    while (queue.resolved.delete(queue.receivedSequence + 1)) queue.receivedSequence += 1;
    while (queue.frames[0] !== undefined && queue.frames[0].sequence <= queue.receivedSequence) {
      const acknowledged = queue.frames.shift();
      if (acknowledged !== undefined) queue.queuedBytes -= acknowledged.bytes.byteLength;
    }
    this.#pump(from, to);
  }

  #failed(from: ServerName, to: ServerName, generation: number): void {
    const pair = this.#pair(from, to);
    if (pair.generation !== generation || pair.resetting) return;
    pair.resetting = true;
    this.#refresh(from, to);
    setTimeout(() => {
      pair.resetting = false;
      this.#refresh(from, to);
    }, this.#options.resetDelayMs);
  }
}

/** One server's view of the in-process network. */
export class InProcessLinks implements FederationLinks {
  readonly #network: InProcessNetwork;
  readonly #server: ServerName;
  readonly handlers: LinkHandlers;
  #closed = false;

  constructor(network: InProcessNetwork, server: ServerName, handlers: LinkHandlers) {
    this.#network = network;
    this.#server = server;
    this.handlers = handlers;
  }

  connect(peer: ServerName): void {
    if (this.#closed || peer === this.#server) return;
    this.#network.connect(this.#server, peer);
  }

  send(peer: ServerName, bytes: Uint8Array, delivery: Delivery): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ParleyError("unavailable", "the links are closed"));
    }
    try {
      if (delivery === "durable") this.#network.sendDurable(this.#server, peer, bytes);
      else this.#network.sendBestEffort(this.#server, peer, bytes);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  isUp(peer: ServerName): boolean {
    return !this.#closed && this.#network.isUp(this.#server, peer);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#network.leave(this.#server);
    }
    return Promise.resolve();
  }
}
