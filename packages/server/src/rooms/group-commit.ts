// Group commit for the event stream. A message is acknowledged only once its
// transaction is durable; a transaction costs one fsync however many events
// it holds. So: a lone message starts a commit at once (no waiting for
// company), and every message that arrives while a commit is running joins
// the next one, up to the storage batch limit. Under load this turns
// thousands of fsyncs a second into a few hundred, without delaying anyone by
// more than one commit.
//
// A commit starts on the next turn of the event loop (setImmediate), not at
// once: with SQLite the whole transaction runs synchronously, so starting it
// inside the first request's handler would commit that message alone before
// the requests already waiting on their sockets were even read. One turn lets
// them all join; a lone message waits a fraction of a millisecond.
//
// It is also the single writer of this process's stream appends, so the
// events it reports to `published` arrive in stream order. A caller may add
// writes of its own to the transaction (`appendAll`'s `alongside`: the
// federation core's flush), so a message costs one commit, not two in series.
//
// Pipelined where the storage allows it (`commitsInFlightMax`): with SQLite
// the next round's transaction runs while the disk syncs the last one (the
// driver hands its one connection on at COMMIT and answers after the sync,
// storage/connection/sqlite.ts), so a message that arrives during a sync
// waits for its own sync only, not for that one first. Transactions still run
// in the order rounds start, and rounds are published and answered in that
// order. PostgreSQL runs rounds one at a time: its pool would run two
// transactions side by side, in no set order.

import { ParleyError } from "@parley/protocol";
import { eventBatchMax, messageCommitQueueMax } from "../limits.ts";
import type { AppendOutcome, NewEvent, StoredEvent } from "../storage/records.ts";
import type { EventRepository, TransactionWrite } from "../storage/storage.ts";

interface Waiting {
  readonly event: NewEvent;
  /** Written in the transaction that stores this event, before the events. */
  readonly alongside: TransactionWrite | null;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** Told about newly stored events, in stream order, after each commit. */
  readonly published: (events: readonly StoredEvent[]) => void;
  /** Told about each committed batch size, for metrics. */
  readonly committed?: (batchSize: number) => void;
  /**
   * Rounds whose transactions may be under way at once (default 1). More
   * than one only where the storage runs transactions one after another in
   * the order they were started (SQLite's one connection).
   */
  readonly commitsInFlightMax?: number;
}

export class GroupCommitter {
  readonly #events: Pick<EventRepository, "appendBatch">;
  readonly #options: GroupCommitOptions;
  #waiting: Waiting[] = [];
  /** Rounds started and not yet answered. */
  #inFlight = 0;
  /** Resolves once the newest round started is published and answered. */
  #answered: Promise<void> = Promise.resolve();
  #scheduled = false;
  #closed = false;

  constructor(events: Pick<EventRepository, "appendBatch">, options: GroupCommitOptions) {
    this.#events = events;
    this.#options = options;
  }

  /** Resolves once the event is durably stored (or was already: a duplicate). */
  append(event: NewEvent): Promise<AppendOutcome> {
    return this.#refusal() ?? this.#enqueue(event, null);
  }

  /**
   * Stores the events in order, with `alongside` written in the transaction
   * that stores the first of them (so it is durable no later than they are).
   * Resolves once all are durable, with their outcomes in order.
   */
  appendAll(events: readonly NewEvent[], alongside: TransactionWrite): Promise<AppendOutcome[]> {
    const refused = this.#refusal();
    if (refused !== null) return refused;
    if (this.#waiting.length + events.length > messageCommitQueueMax) {
      return Promise.reject(saturated());
    }
    return Promise.all(
      events.map((event, index) => this.#enqueue(event, index === 0 ? alongside : null)),
    );
  }

  #refusal(): Promise<never> | null {
    if (this.#closed) {
      return Promise.reject(new ParleyError("unavailable", "the server is shutting down"));
    }
    if (this.#waiting.length >= messageCommitQueueMax) return Promise.reject(saturated());
    return null;
  }

  #enqueue(event: NewEvent, alongside: TransactionWrite | null): Promise<AppendOutcome> {
    const promise = new Promise<AppendOutcome>((resolve, reject) => {
      this.#waiting.push({ event, alongside, resolve, reject });
    });
    this.#schedule();
    return promise;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Stops taking events and waits until everything taken is committed. */
  async close(): Promise<void> {
    this.#closed = true;
    // Bounded: once closed, nothing new is taken, so the queue only shrinks.
    while (this.#scheduled || this.#inFlight > 0) {
      await (this.#inFlight > 0 ? this.#answered : new Promise((resolve) => setImmediate(resolve)));
    }
  }

  #schedule(): void {
    const inFlightMax = this.#options.commitsInFlightMax ?? 1;
    if (this.#scheduled || this.#inFlight >= inFlightMax || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#start();
    });
  }

  /** Starts one round with what is waiting (up to the batch limit). */
  #start(): void {
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting.slice(0, eventBatchMax);
    this.#waiting = this.#waiting.slice(batch.length);
    const writes = batch.flatMap((waiting) =>
      waiting.alongside === null ? [] : [waiting.alongside],
    );
    const alongside: TransactionWrite | undefined =
      writes.length === 0
        ? undefined
        : async (transaction) => {
            for (const write of writes) await write(transaction);
          };
    this.#inFlight += 1;
    const stored = this.#events.appendBatch(
      batch.map((waiting) => waiting.event),
      alongside,
    );
    const previous = this.#answered;
    this.#answered = stored
      .then(
        async (outcomes) => {
          // Published in the order rounds started, so stream order holds.
          await previous;
          this.#answer(batch, outcomes);
        },
        async (error: unknown) => {
          await previous;
          for (const waiting of batch) waiting.reject(error);
        },
      )
      .finally(() => {
        this.#inFlight -= 1;
        this.#schedule();
      });
    // Rounds may overlap: the next one starts as soon as events wait.
    this.#schedule();
  }

  #answer(batch: readonly Waiting[], outcomes: readonly AppendOutcome[]): void {
    this.#options.committed?.(batch.length);
    const stored = outcomes.filter((outcome) => outcome.kind === "appended");
    try {
      if (stored.length > 0) this.#options.published(stored.map((outcome) => outcome.event));
    } catch (error) {
      // Stored, but not shown live: the callers hear of it (the chain of rounds goes on).
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) waiting.reject(new Error("a batch outcome is missing"));
      else waiting.resolve(outcome);
    });
  }
}

function saturated(): ParleyError {
  return new ParleyError("unavailable", "the server is saturated; retry shortly", {
    retryAfterMs: 100,
  });
}
