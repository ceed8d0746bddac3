// The receiving side of a peer's durable frames (docs/protocol.md §12.10.5):
// frames are handed to the handler in sequence order, a bounded number at a
// time; the high-water mark advances over frames whose handler resolved (and
// every earlier one), is written to the database, and only then acknowledged.
// A frame at or below the mark is a duplicate and only re-acknowledged.

import type { ServerName } from "@parley/protocol";
import type { LinkHandlers } from "./link-api.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export type OfferOutcome = "accepted" | "duplicate" | "gap";

export interface InboundDependencies {
  readonly storage: LinkQueueStorage;
  readonly handlers: LinkHandlers;
  /** Sends a cumulative acknowledgement on the current link, if there is one. */
  acknowledge(peer: ServerName, sequence: number): void;
  /** The handler refused a frame or the mark could not be written: reset the link. */
  failed(peer: ServerName, error: unknown): void;
  /** Handed-over frames were resolved: the window may have room again. */
  progressed(peer: ServerName): void;
}

export class PeerInbound {
  readonly #peer: ServerName;
  readonly #dependencies: InboundDependencies;
  /** The mark as stored: acknowledged to the peer. */
  persisted: number;
  /** Highest sequence handed to the handler. */
  called: number;
  /** Every sequence up to this one resolved. */
  contiguous: number;
  readonly #resolved = new Set<number>();
  /** Bumped by a failure, so answers for frames handed over before it are ignored. */
  #generation = 0;
  #writing = false;

  constructor(peer: ServerName, receivedSequence: number, dependencies: InboundDependencies) {
    this.#peer = peer;
    this.#dependencies = dependencies;
    this.persisted = receivedSequence;
    this.called = receivedSequence;
    this.contiguous = receivedSequence;
  }

  /** Frames handed to the handler and not resolved yet. */
  get outstanding(): number {
    return this.called - this.contiguous;
  }

  offer(sequence: number, payload: Uint8Array): OfferOutcome {
    if (sequence <= this.called) {
      if (sequence <= this.persisted) this.#dependencies.acknowledge(this.#peer, this.persisted);
      return "duplicate";
    }
    if (sequence !== this.called + 1) return "gap";
    this.called = sequence;
    const generation = this.#generation;
    let handled: Promise<void>;
    try {
      handled = this.#dependencies.handlers.receive(this.#peer, payload);
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled.then(
      () => this.#resolvedOne(sequence, generation),
      (error: unknown) => this.#fail(generation, error),
    );
    return "accepted";
  }

  #resolvedOne(sequence: number, generation: number): void {
    if (generation !== this.#generation) return;
    this.#resolved.add(sequence);
    while (this.#resolved.delete(this.contiguous + 1)) this.contiguous += 1;
    this.#dependencies.progressed(this.#peer);
    void this.#persist();
  }

  #fail(generation: number, error: unknown): void {
    if (generation !== this.#generation) return;
    this.#generation += 1;
    this.called = this.contiguous;
    this.#resolved.clear();
    this.#dependencies.failed(this.#peer, error);
  }

  /** Writes the mark (one write at a time, each with the newest value), then acknowledges. */
  async #persist(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.contiguous > this.persisted) {
        const target = this.contiguous;
        await this.#dependencies.storage.recordReceived(this.#peer, target);
        this.persisted = Math.max(this.persisted, target);
        this.#dependencies.acknowledge(this.#peer, this.persisted);
      }
    } catch (error) {
      this.#fail(this.#generation, error);
    } finally {
      this.#writing = false;
    }
  }

  /** Resolves once no mark write is running (for a graceful close). */
  async idle(): Promise<void> {
    for (let attempt = 0; attempt < 1000 && this.#writing; attempt += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
