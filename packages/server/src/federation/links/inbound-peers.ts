// Routes the durable and best-effort frames of authenticated links to each
// peer's receive state (inbound-marks.ts), applies the receive window as
// socket back-pressure, and sends acknowledgements on the peer's current link.

import { ParleyError, type ServerName } from "@parley/protocol";
import { PeerInbound } from "./inbound-marks.ts";
import type { LinkLimits } from "./limits.ts";
import type { LinkHandlers } from "./link-api.ts";
import type { LinkConnection } from "./link-connection.ts";
import type { LinkFrame } from "./link-frames.ts";
import type { LinkMetrics } from "./link-metrics.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export interface InboundMarksDependencies {
  readonly storage: LinkQueueStorage;
  readonly handlers: LinkHandlers;
  readonly limits: LinkLimits;
  readonly metrics: LinkMetrics;
  current(peer: ServerName): LinkConnection | null;
  /** A frame's handler failed: the link is reset so the frame comes again. */
  reset(peer: ServerName, error: unknown): void;
}

export class InboundMarks {
  readonly #dependencies: InboundMarksDependencies;
  readonly #peers = new Map<ServerName, PeerInbound>();
  readonly #paused = new Map<ServerName, LinkConnection>();

  constructor(dependencies: InboundMarksDependencies) {
    this.#dependencies = dependencies;
  }

  /** Starts tracking a peer from its stored mark (once; later calls change nothing). */
  seed(peer: ServerName, receivedSequence: number): void {
    if (this.#peers.has(peer)) return;
    this.#peers.set(
      peer,
      new PeerInbound(peer, receivedSequence, {
        storage: this.#dependencies.storage,
        handlers: this.#dependencies.handlers,
        acknowledge: (to, sequence) =>
          this.#dependencies.current(to)?.send({ kind: "acknowledge", sequence }),
        failed: (from, error) => this.#dependencies.reset(from, error),
        progressed: (from) => this.#progressed(from),
      }),
    );
  }

  /** The stored mark of a seeded peer (0 if unknown). */
  persistedOf(peer: ServerName): number {
    return this.#peers.get(peer)?.persisted ?? 0;
  }

  receive(peer: ServerName, connection: LinkConnection, frame: LinkFrame): void {
    if (frame.kind === "best-effort") {
      this.#dependencies.handlers.receive(peer, frame.payload).catch(() => {
        // Best-effort frames are never retried; the protocol repairs their loss.
      });
      return;
    }
    if (frame.kind !== "durable") return;
    const inbound = this.#peers.get(peer);
    if (inbound === undefined) throw new ParleyError("internal", `no receive state for ${peer}`);
    const outcome = inbound.offer(frame.sequence, frame.payload);
    if (outcome === "gap") {
      throw new ParleyError(
        "bad_structure",
        `durable frame ${frame.sequence} after ${inbound.called}: sequences have no gaps`,
      );
    }
    if (inbound.outstanding >= this.#dependencies.limits.receiveWindowFrames) {
      connection.pause();
      this.#paused.set(peer, connection);
    }
  }

  #progressed(peer: ServerName): void {
    const paused = this.#paused.get(peer);
    const inbound = this.#peers.get(peer);
    if (paused === undefined || inbound === undefined) return;
    if (inbound.outstanding < this.#dependencies.limits.receiveWindowFrames) {
      this.#paused.delete(peer);
      paused.resume();
    }
  }

  async idle(): Promise<void> {
    for (const inbound of this.#peers.values()) await inbound.idle();
  }
}
