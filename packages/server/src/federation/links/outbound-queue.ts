// The durable outbound side of the links (docs/protocol.md §12.10.5): one
// queue per peer, stored in the database before `send` resolves, bounded in
// frames and bytes. Sequences are assigned when a batch is written (by one
// writer at a time), so a failed write leaves no gap. What the peer
// acknowledged is forgotten in memory at once and deleted from the database
// behind it; a crash before the delete only means the frames go out again,
// which the receiver's high-water mark makes harmless.

import { ParleyError } from "@parley/protocol";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export interface OutboundBounds {
  readonly queueFramesMax: number;
  readonly queueBytesMax: number;
  readonly enqueueBatchFramesMax: number;
  readonly queueMemoryBytesMax: number;
}

/** Bytes one write transaction carries before the rest waits for the next (one big frame still goes alone). */
const enqueueBatchBytesMax = 8 * 1024 * 1024;

/** One peer's queue as the sender sees it. */
export class PeerOutbound {
  readonly peer: string;
  /** Last sequence stored. */
  lastSequence: number;
  /** Highest sequence the peer acknowledged (its frames are gone from memory). */
  acknowledged: number;
  /** Next sequence to put on the current link. */
  nextToSend: number;
  /** When `acknowledged` last moved, or the link (re)started: the retransmit clock. */
  progressAtMs = 0;
  queuedFrames: number;
  queuedBytes: number;
  /** Accepted by `enqueue`, not yet stored. */
  pendingFrames = 0;
  pendingBytes = 0;
  readonly #sizes: number[];
  #sizesHead = 0;
  readonly #memory = new Map<number, Uint8Array>();
  #memoryBytes = 0;

  constructor(
    peer: string,
    state: { lastSequence: number; queued: ReadonlyArray<{ sequence: number; bytes: number }> },
  ) {
    this.peer = peer;
    this.lastSequence = state.lastSequence;
    const first = state.queued[0];
    this.acknowledged = first === undefined ? state.lastSequence : first.sequence - 1;
    this.nextToSend = this.acknowledged + 1;
    this.#sizes = state.queued.map((frame) => frame.bytes);
    this.queuedFrames = this.#sizes.length;
    this.queuedBytes = this.#sizes.reduce((sum, size) => sum + size, 0);
  }

  /** The payload of `sequence` if it is still held in memory. */
  inMemory(sequence: number): Uint8Array | undefined {
    return this.#memory.get(sequence);
  }

  /** Called by the writer once `payload` is stored as `sequence`. */
  stored(sequence: number, payload: Uint8Array, memoryBytesMax: number): void {
    this.lastSequence = sequence;
    this.#sizes.push(payload.byteLength);
    this.queuedFrames += 1;
    this.queuedBytes += payload.byteLength;
    if (this.#memoryBytes + payload.byteLength <= memoryBytesMax) {
      this.#memory.set(sequence, payload);
      this.#memoryBytes += payload.byteLength;
    }
  }

  /** Applies a cumulative acknowledgement; returns false if it acknowledges nothing new. */
  acknowledge(sequence: number, nowMs: number): boolean {
    if (sequence <= this.acknowledged) return false;
    for (let next = this.acknowledged + 1; next <= sequence; next += 1) {
      const size = this.#sizes[this.#sizesHead] ?? 0;
      this.#sizesHead += 1;
      this.queuedFrames -= 1;
      this.queuedBytes -= size;
      const payload = this.#memory.get(next);
      if (payload !== undefined) {
        this.#memory.delete(next);
        this.#memoryBytes -= payload.byteLength;
      }
    }
    if (this.#sizesHead > 1024 && this.#sizesHead * 2 > this.#sizes.length) {
      this.#sizes.splice(0, this.#sizesHead);
      this.#sizesHead = 0;
    }
    this.acknowledged = sequence;
    if (this.nextToSend <= sequence) this.nextToSend = sequence + 1;
    this.progressAtMs = nowMs;
    return true;
  }

  /** Continues numbering after `sequence`; only for an empty queue. */
  skipTo(sequence: number): void {
    if (this.queuedFrames + this.pendingFrames !== 0 || sequence <= this.lastSequence) return;
    this.lastSequence = sequence;
    this.acknowledged = sequence;
    this.nextToSend = sequence + 1;
  }

  /** Sent on the current link and not acknowledged. */
  get inFlightFrames(): number {
    return this.nextToSend - 1 - this.acknowledged;
  }
}

interface PendingFrame {
  readonly queue: PeerOutbound;
  readonly payload: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Writes durable frames of every peer in batches: one transaction per batch,
 * one batch at a time, so a burst of sends costs a few commits rather than
 * one each.
 */
export class DurableWriter {
  readonly #storage: LinkQueueStorage;
  readonly #bounds: OutboundBounds;
  readonly #stored: (queue: PeerOutbound) => void;
  readonly #pending: PendingFrame[] = [];
  #writing: Promise<void> | null = null;

  constructor(
    storage: LinkQueueStorage,
    bounds: OutboundBounds,
    stored: (queue: PeerOutbound) => void,
  ) {
    this.#storage = storage;
    this.#bounds = bounds;
    this.#stored = stored;
  }

  /** Resolves once stored; refuses with `capacity_exceeded` when the peer's queue is at its bound. */
  enqueue(queue: PeerOutbound, payload: Uint8Array): Promise<void> {
    if (
      queue.queuedFrames + queue.pendingFrames >= this.#bounds.queueFramesMax ||
      queue.queuedBytes + queue.pendingBytes + payload.byteLength > this.#bounds.queueBytesMax
    ) {
      return Promise.reject(
        new ParleyError(
          "capacity_exceeded",
          `the durable queue to ${queue.peer} holds ${queue.queuedFrames + queue.pendingFrames} frames and ${queue.queuedBytes + queue.pendingBytes} bytes, its bound`,
        ),
      );
    }
    queue.pendingFrames += 1;
    queue.pendingBytes += payload.byteLength;
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ queue, payload: Uint8Array.from(payload), resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  /** Resolves when every frame accepted so far is written (or failed). */
  async idle(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      // Let the sends of the current turn of the event loop join the first batch.
      await Promise.resolve();
      while (this.#pending.length > 0) await this.#writeBatch(this.#takeBatch());
    } finally {
      this.#writing = null;
    }
  }

  #takeBatch(): PendingFrame[] {
    let bytes = 0;
    let count = 0;
    for (const frame of this.#pending) {
      if (count >= this.#bounds.enqueueBatchFramesMax) break;
      if (count > 0 && bytes + frame.payload.byteLength > enqueueBatchBytesMax) break;
      bytes += frame.payload.byteLength;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }

  async #writeBatch(batch: readonly PendingFrame[]): Promise<void> {
    const lastSequences = new Map<string, number>();
    const rows = batch.map((frame) => {
      const sequence = (lastSequences.get(frame.queue.peer) ?? frame.queue.lastSequence) + 1;
      lastSequences.set(frame.queue.peer, sequence);
      return { peer: frame.queue.peer, sequence, payload: frame.payload };
    });
    let failure: unknown = null;
    try {
      await this.#storage.append(rows, lastSequences);
    } catch (error) {
      failure = error;
    }
    const touched = new Set<PeerOutbound>();
    batch.forEach((frame, index) => {
      frame.queue.pendingFrames -= 1;
      frame.queue.pendingBytes -= frame.payload.byteLength;
      const row = rows[index];
      if (failure === null && row !== undefined) {
        frame.queue.stored(row.sequence, frame.payload, this.#bounds.queueMemoryBytesMax);
        touched.add(frame.queue);
        frame.resolve();
      } else {
        frame.reject(
          new ParleyError("unavailable", "the durable queue could not be written", {
            cause: failure,
          }),
        );
      }
    });
    for (const queue of touched) this.#stored(queue);
  }
}
