// Every peer the link manager knows: its durable outbound queue (loaded from
// storage once, on first use), the connections it has and the state of
// dialling it. The manager, the dialler and the inbound marks all read it.

import type { ServerName } from "@parley/protocol";
import type { InboundMarks } from "./inbound-peers.ts";
import type { LinkConnection } from "./link-connection.ts";
import { PeerOutbound } from "./outbound-queue.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export interface PeerState {
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

export class PeerTable {
  readonly #storage: LinkQueueStorage;
  readonly #inbound: () => InboundMarks;
  readonly #loaded: () => void;
  readonly #peers = new Map<ServerName, PeerState>();
  readonly #loading = new Map<ServerName, Promise<PeerState>>();

  /** `loaded` is called after each peer's first load (the queue gauges change). */
  constructor(storage: LinkQueueStorage, inbound: () => InboundMarks, loaded: () => void) {
    this.#storage = storage;
    this.#inbound = inbound;
    this.#loaded = loaded;
  }

  /** A peer already loaded, if it is. */
  get(peer: ServerName): PeerState | undefined {
    return this.#peers.get(peer);
  }

  values(): IterableIterator<PeerState> {
    return this.#peers.values();
  }

  /** Loads a peer's stored queue once; concurrent callers share the load. */
  load(peer: ServerName): Promise<PeerState> {
    const known = this.#peers.get(peer);
    if (known !== undefined) return Promise.resolve(known);
    const loading = this.#loading.get(peer);
    if (loading !== undefined) return loading;
    const load = this.#storage
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
        this.#inbound().seed(peer, stored.receivedSequence);
        this.#loaded();
        return state;
      })
      .finally(() => this.#loading.delete(peer));
    this.#loading.set(peer, load);
    return load;
  }

  /** Frames and bytes queued for every peer. */
  queuedTotals(): { frames: number; bytes: number } {
    let frames = 0;
    let bytes = 0;
    for (const state of this.#peers.values()) {
      frames += state.outbound.queuedFrames;
      bytes += state.outbound.queuedBytes;
    }
    return { frames, bytes };
  }
}
