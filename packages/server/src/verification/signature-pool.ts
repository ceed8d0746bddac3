// Ed25519 verification on worker threads, so the event loop that reads
// requests and fans out events is not spent on signatures (about 100 µs each
// on this project's reference machine: one core verifies about 10,000 a
// second and does nothing else). Requests from one event-loop turn are sent
// to a worker as one batch, so the cost of crossing threads is per batch.
//
// The queue is bounded: a verification asked for while `queueMax` are
// waiting or running is refused at once with `unavailable` and a retry time,
// which the client API answers as such — back-pressure instead of memory
// growing behind a saturated pool. A worker that dies fails its batches with
// `unavailable` and is replaced on the next request.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ParleyError } from "@parley/protocol";
import { signatureInlinePerTurnMax, signatureQueueMax, signatureRetryAfterMs } from "../limits.ts";

export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

interface Waiting {
  readonly check: SignatureCheck;
  readonly resolve: (valid: boolean) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by id. */
  readonly batches: Map<number, Waiting[]>;
  outstanding: number;
}

export interface SignaturePoolOptions {
  /** Worker threads; by default one per available core but one, and at least one. */
  readonly threads?: number;
  /** Verifications waiting or running before new ones are refused. */
  readonly queueMax?: number;
}

/** The pool's size for this machine: the event loop keeps one core. */
export function defaultSignatureThreads(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 8));
}

const workerUrl = new URL("./signature-worker.mjs", import.meta.url);

export class SignaturePool {
  readonly #threadCount: number;
  readonly #queueMax: number;
  readonly #threads: Thread[] = [];
  #pending: Waiting[] = [];
  #inFlight = 0;
  #nextBatchId = 1;
  #flushScheduled = false;
  /** Inline verifications claimed in this event-loop turn. */
  #inlineClaimed = 0;
  #closed = false;

  constructor(options: SignaturePoolOptions = {}) {
    this.#threadCount = options.threads ?? defaultSignatureThreads();
    this.#queueMax = options.queueMax ?? signatureQueueMax;
    if (!(this.#threadCount >= 1) || !(this.#queueMax >= 1)) {
      throw new Error("a signature pool needs at least one thread and a queue of one");
    }
  }

  get threads(): number {
    return this.#threadCount;
  }

  /** Verifications waiting or running. */
  get queued(): number {
    return this.#inFlight;
  }

  /**
   * True for the first few callers in an event-loop turn while the pool has
   * nothing to do (limits.signatureInlinePerTurnMax): such a verification is
   * cheaper on the calling thread than two thread hops away, and messages
   * that arrived together stay together (the same commit round). Every other
   * caller should use `verify`.
   */
  claimInlineTurn(): boolean {
    if (this.#inFlight > 0 || this.#inlineClaimed >= signatureInlinePerTurnMax) return false;
    if (this.#inlineClaimed === 0) {
      setImmediate(() => {
        this.#inlineClaimed = 0;
      });
    }
    this.#inlineClaimed += 1;
    return true;
  }

  /** Whether the signature verifies; `unavailable` when the pool is saturated or closed. */
  verify(check: SignatureCheck): Promise<boolean> {
    if (this.#closed) {
      return Promise.reject(new ParleyError("unavailable", "the server is shutting down"));
    }
    if (this.#inFlight >= this.#queueMax) {
      return Promise.reject(
        new ParleyError("unavailable", "signature verification is saturated; retry shortly", {
          retryAfterMs: signatureRetryAfterMs,
        }),
      );
    }
    this.#inFlight += 1;
    return new Promise((resolve, reject) => {
      this.#pending.push({ check, resolve, reject });
      this.#scheduleFlush();
    });
  }

  /** Stops the workers; waiting verifications fail with `unavailable`. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopped = new ParleyError("unavailable", "the server is shutting down");
    for (const waiting of this.#pending.splice(0)) waiting.reject(stopped);
    await Promise.all(this.#threads.splice(0).map((thread) => this.#stop(thread, stopped)));
    this.#inFlight = 0;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Splits what is pending into one batch per thread, fewest outstanding first. */
  #flush(): void {
    if (this.#closed || this.#pending.length === 0) return;
    while (this.#threads.length < this.#threadCount) this.#threads.push(this.#spawn());
    const pending = this.#pending;
    this.#pending = [];
    const share = Math.ceil(pending.length / this.#threads.length);
    const threads = [...this.#threads].sort((left, right) => left.outstanding - right.outstanding);
    for (let start = 0, index = 0; start < pending.length; start += share, index += 1) {
      const thread = threads[index % threads.length];
      if (thread === undefined) break;
      this.#send(thread, pending.slice(start, start + share));
    }
  }

  #send(thread: Thread, batch: Waiting[]): void {
    const id = this.#nextBatchId;
    this.#nextBatchId += 1;
    thread.batches.set(id, batch);
    thread.outstanding += batch.length;
    thread.worker.postMessage({ id, items: batch.map((waiting) => waiting.check) });
  }

  #spawn(): Thread {
    const worker = new Worker(workerUrl);
    worker.unref();
    const thread: Thread = { worker, batches: new Map(), outstanding: 0 };
    worker.on("message", (answer: { id: number; valid: Uint8Array }) => {
      const batch = thread.batches.get(answer.id);
      if (batch === undefined) return;
      thread.batches.delete(answer.id);
      thread.outstanding -= batch.length;
      this.#inFlight -= batch.length;
      batch.forEach((waiting, index) => {
        waiting.resolve(answer.valid[index] === 1);
      });
    });
    const failed = (error: unknown) => {
      const index = this.#threads.indexOf(thread);
      if (index !== -1) this.#threads.splice(index, 1);
      this.#failBatches(
        thread,
        new ParleyError("unavailable", "a signature worker stopped; retry", {
          retryAfterMs: signatureRetryAfterMs,
          cause: error,
        }),
      );
    };
    worker.on("error", failed);
    worker.on("exit", (code) => failed(new Error(`the signature worker exited with ${code}`)));
    return thread;
  }

  #failBatches(thread: Thread, error: ParleyError): void {
    for (const batch of thread.batches.values()) {
      this.#inFlight -= batch.length;
      for (const waiting of batch) waiting.reject(error);
    }
    thread.batches.clear();
    thread.outstanding = 0;
  }

  async #stop(thread: Thread, error: ParleyError): Promise<void> {
    this.#failBatches(thread, error);
    thread.worker.removeAllListeners();
    await thread.worker.terminate();
  }
}
