// The IO shell around FederationHost: the one place where the homeserver's
// federation core meets time, links, storage and the rest of the server.
//
// Every input — a tick, a link going up or down, a received frame, a local
// request — is queued and handled one at a time on the host (the host is not
// re-entrant). The loop, as the host's contract orders it:
//
//   1. take the queued inputs (at most driverInputsPerFlushMax) and run each
//      on the host, collecting their effects;
//   2. if any input's effects say `mustSync`, await `storage.flush()`: one
//      transaction for all of them (group commit). A failed flush stops the
//      driver for good: the host's memory is then ahead of its disk, and
//      going on would send frames that promise what the disk does not hold.
//      A round of messages alone is instead handed to the projection with
//      the flush to write in the same transaction as their stream events
//      (`handleWithin`): one commit per round on the message path, where
//      there were two in series (each a disk sync of several milliseconds);
//   3. start sending the frames (encoded, durable or best-effort:
//      frame-delivery.ts), connecting to peers that have no link yet;
//   4. hand the events to the homeserver (the projection into client-facing
//      tables) unless step 2 did, and await it;
//   5. resolve local requests whose outcome is now known, and — once the
//      round's frames are queued — the other inputs: a received frame's
//      promise (its link acknowledges the frame only then). The next round
//      does not wait for those queue writes, which are disk writes of their
//      own; the queue keeps the order frames were handed to it.
//
// So a client is answered only after the outcome is durable here and
// projected, and a peer's frame is acknowledged only after what it caused is
// durable.

import {
  type CommitVerdict,
  encodeFrame,
  type FederationEffects,
  type FederationEvent,
  type FederationHost,
  type Frame,
  type LocalSubmissionOutcome,
} from "@parley/federation";
import {
  isParleyError,
  ParleyError,
  type RoomId,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import type { Logger } from "../../observability/logger.ts";
import type { TransactionWrite } from "../../storage/storage.ts";
import type { FrameCounts } from "../frame-counts.ts";
import {
  driverInputsPerFlushMax,
  driverInputsQueuedMax,
  driverRequestsPendingMax,
  linkUpkeepTicks,
} from "../limits.ts";
import type {
  FederationLinkHandlers,
  FederationTransport,
  FlushableFederationStorage,
} from "./federation-transport.ts";
import { frameDelivery } from "./frame-delivery.ts";

/** Checks a leaf's commit before this sponsor proposes it (docs/protocol.md §13.8). */
export type SubmittedCommitCheck = (room: RoomId, entry: ControlEntry) => Promise<CommitVerdict>;

/** Where the driver hands the host's events (the room projection). */
export interface FederationEventSink {
  handle(events: readonly FederationEvent[]): Promise<void>;
  /**
   * Handles the events with `flush` written in the same transaction, or
   * returns null when it cannot (then the driver flushes, then calls `handle`).
   */
  handleWithin?(events: readonly FederationEvent[], flush: TransactionWrite): Promise<void> | null;
}

export interface FederationDriverOptions {
  readonly host: FederationHost;
  readonly storage: FlushableFederationStorage;
  readonly transport: FederationTransport;
  readonly tickIntervalMs: number;
  readonly logger: Logger;
  /**
   * The first request id: ids must not repeat across restarts (a record
   * replayed from the log names its proposal id), so callers derive it from
   * the clock (milliseconds × 1000).
   */
  readonly firstRequestId: number;
  /** Counts every frame handed to the transport, by type (metrics). */
  readonly frameCounts?: FrameCounts;
  /** Fetches the key documents of certificate signers the core does not know yet (§12.6.1). */
  readonly wantKeys?: (servers: readonly ServerName[]) => void;
}

interface QueuedInput {
  readonly run: (host: FederationHost) => FederationEffects;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The final outcome of a local submission: never "proposed", which is only a step. */
export type FinalOutcome = Exclude<LocalSubmissionOutcome, { kind: "proposed" }>;

export class FederationDriver implements FederationLinkHandlers {
  readonly #host: FederationHost;
  readonly #storage: FlushableFederationStorage;
  readonly #frameCounts: FrameCounts | undefined;
  #transport: FederationTransport;
  readonly #logger: Logger;
  readonly #tickIntervalMs: number;
  #sink: FederationEventSink | null = null;
  #commitCheck: SubmittedCommitCheck | null = null;
  #queue: QueuedInput[] = [];
  /** Rounds whose frames are being queued; their inputs resolve after. */
  readonly #inFlightSends = new Set<Promise<void>>();
  #running: Promise<void> | null = null;
  #tickQueued = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #failure: Error | null = null;
  #nextRequestId: number;
  readonly #pending = new Map<number, (outcome: FinalOutcome) => void>();
  #inputsHandled = 0;
  readonly #wantKeys: (servers: readonly ServerName[]) => void;
  #flushes = 0;

  constructor(options: FederationDriverOptions) {
    this.#host = options.host;
    this.#storage = options.storage;
    this.#frameCounts = options.frameCounts;
    this.#transport = options.transport;
    this.#logger = options.logger;
    this.#tickIntervalMs = options.tickIntervalMs;
    this.#nextRequestId = Math.max(1, options.firstRequestId);
    this.#wantKeys = options.wantKeys ?? (() => {});
  }

  get self(): ServerName {
    return this.#host.self;
  }

  /** Set before `start` (the transport is built with the driver as its handlers). */
  setTransport(transport: FederationTransport): void {
    this.#transport = transport;
  }

  /** Set before `start`: the host's events go there. */
  setEventSink(sink: FederationEventSink): void {
    this.#sink = sink;
  }

  /** Set once the homeserver can check MLS commits; until then leaves' commits are refused. */
  setCommitCheck(check: SubmittedCommitCheck): void {
    this.#commitCheck = check;
  }

  /** Starts the tick timer; the first tick also replays what the host restored. */
  start(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => this.#queueTick(), this.#tickIntervalMs);
    this.#timer.unref();
    this.#queueTick();
  }

  /** Null while healthy; the error that stopped the driver otherwise. */
  get failure(): Error | null {
    return this.#failure;
  }

  get statistics(): { inputsHandled: number; flushes: number; queued: number; pending: number } {
    return {
      inputsHandled: this.#inputsHandled,
      flushes: this.#flushes,
      queued: this.#queue.length,
      pending: this.#pending.size,
    };
  }

  /** A synchronous look at the host's state (its rooms, their applied state). */
  view<Result>(read: (host: FederationHost) => Result): Result {
    return read(this.#host);
  }

  // ---------------------------------------------------------------------
  // Link handlers
  // ---------------------------------------------------------------------

  linkUp(peer: ServerName): void {
    this.#enqueue((host) => host.linkUp(peer)).catch(() => {});
  }

  linkDown(peer: ServerName): void {
    this.#enqueue((host) => host.linkDown(peer)).catch(() => {});
  }

  receive(peer: ServerName, bytes: Uint8Array): Promise<void> {
    return this.#enqueue((host) => host.receive(peer, bytes));
  }

  /** A frame from `peer` its caller decoded already (it looked at the type first). */
  receiveFrame(peer: ServerName, frame: Frame): Promise<void> {
    return this.#enqueue((host) => host.receiveFrame(peer, frame));
  }

  // ---------------------------------------------------------------------
  // Local requests
  // ---------------------------------------------------------------------

  /** Creates a room sponsored here; resolves once it is durable and projected. */
  createRoom(entry: ControlEntry): Promise<void> {
    const requestId = this.#takeRequestId();
    return this.#enqueue((host) => host.createRoom(entry, requestId));
  }

  /** Follows a room as a leaf through `contacts` (idempotent); dials them first. */
  followRoom(room: RoomId, contacts: readonly ServerName[]): Promise<void> {
    for (const contact of contacts) {
      if (contact !== this.self) this.#transport.connect(contact);
    }
    return this.#enqueue((host) => host.followRoom(room, contacts));
  }

  /** Proposes a local user's control entry; resolves with its final outcome. */
  proposeControl(room: RoomId, entry: ControlEntry): Promise<FinalOutcome> {
    return this.#submit((host, requestId) => host.proposeControl(room, entry, requestId));
  }

  /** Sends a local user's message (its signature checked); resolves with its final outcome. */
  sendMessage(
    room: RoomId,
    sender: UserId,
    clientMessageId: string,
    body: Uint8Array,
  ): Promise<FinalOutcome> {
    return this.#submit((host, requestId) =>
      host.sendMessage(room, sender, clientMessageId, body, requestId),
    );
  }

  /** Stops the timer, handles what is queued (bounded: nothing new is taken), flushes. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#closed = true;
    while (this.#running !== null) await this.#running;
    await Promise.all(this.#inFlightSends);
    if (this.#failure === null) {
      try {
        await this.#storage.flush();
      } catch (error) {
        this.#fail(error);
      }
    }
    const closing = new ParleyError("unavailable", "the server is shutting down");
    for (const resolve of this.#pending.values()) {
      resolve({ kind: "refused", code: "unavailable", reason: closing.message });
    }
    this.#pending.clear();
  }

  // ---------------------------------------------------------------------
  // The loop
  // ---------------------------------------------------------------------

  #takeRequestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId += 1;
    return id;
  }

  #submit(
    run: (host: FederationHost, requestId: number) => FederationEffects,
  ): Promise<FinalOutcome> {
    if (this.#pending.size >= driverRequestsPendingMax) {
      return Promise.reject(
        new ParleyError("unavailable", "too many requests in flight; retry shortly", {
          retryAfterMs: 100,
        }),
      );
    }
    const requestId = this.#takeRequestId();
    const outcome = new Promise<FinalOutcome>((resolve) => {
      this.#pending.set(requestId, resolve);
    });
    this.#enqueue((host) => run(host, requestId)).catch((error: unknown) => {
      const resolve = this.#pending.get(requestId);
      this.#pending.delete(requestId);
      const reason = isParleyError(error) ? error.message : "the request failed";
      resolve?.({ kind: "refused", code: "unavailable", reason });
    });
    return outcome;
  }

  #queueTick(): void {
    if (this.#tickQueued || this.#closed) return;
    this.#tickQueued = true;
    this.#enqueue((host) => {
      this.#tickQueued = false;
      if (host.currentTick % linkUpkeepTicks === 0) this.#dialRoomServers(host);
      return host.tick();
    }).catch(() => {});
  }

  /**
   * A leaf attaches only over a live link, and a link exists only once
   * someone dials it: so the driver keeps links to the servers of every room
   * it takes part in (its sponsors, and the contacts a leaf started from)
   * dialled. `connect` is idempotent; the transport backs off by itself.
   */
  #dialRoomServers(host: FederationHost): void {
    const peers = new Set<ServerName>();
    for (const room of host.rooms()) {
      const session = host.session(room);
      if (session === undefined) continue;
      for (const server of session.replica.sponsors) peers.add(server);
      for (const server of session.contacts) peers.add(server);
    }
    peers.delete(this.self);
    for (const peer of peers) {
      if (!this.#transport.isUp(peer)) this.#transport.connect(peer);
    }
  }

  #enqueue(run: (host: FederationHost) => FederationEffects): Promise<void> {
    if (this.#failure !== null) {
      return Promise.reject(new ParleyError("unavailable", "federation has stopped on an error"));
    }
    if (this.#closed && this.#running === null) {
      return Promise.reject(new ParleyError("unavailable", "the server is shutting down"));
    }
    if (this.#queue.length >= driverInputsQueuedMax) {
      return Promise.reject(
        new ParleyError("unavailable", "the federation queue is full; retry shortly", {
          retryAfterMs: 100,
        }),
      );
    }
    const done = new Promise<void>((resolve, reject) => {
      this.#queue.push({ run, resolve, reject });
    });
    this.#running ??= this.#loop();
    return done;
  }

  async #loop(): Promise<void> {
    // Bounded: each round takes at least one input off a bounded queue.
    while (this.#queue.length > 0 && this.#failure === null) {
      // Let requests that arrive in the same turn join this round.
      await new Promise((resolve) => setImmediate(resolve));
      const batch = this.#queue.slice(0, driverInputsPerFlushMax);
      this.#queue = this.#queue.slice(batch.length);
      try {
        await this.#round(batch);
      } catch (error) {
        this.#fail(error);
        for (const input of batch) input.reject(error);
      }
    }
    if (this.#failure !== null) {
      const stopped = new ParleyError("unavailable", "federation has stopped on an error");
      for (const input of this.#queue) input.reject(stopped);
      this.#queue = [];
    }
    this.#running = null;
  }

  async #round(batch: readonly QueuedInput[]): Promise<void> {
    let mustSync = false;
    const frames: FederationEffects["frames"][number][] = [];
    const events: FederationEvent[] = [];
    const settled: Array<{ input: QueuedInput; error: unknown }> = [];
    for (const input of batch) {
      let effects: FederationEffects;
      try {
        effects = input.run(this.#host);
      } catch (error) {
        // A refused local request (a room that exists, bad arguments) is the
        // caller's; anything else means the core's state cannot be trusted.
        if (!isParleyError(error) || error.category === "internal") throw error;
        settled.push({ input, error });
        continue;
      }
      this.#inputsHandled += 1;
      mustSync ||= effects.mustSync;
      frames.push(...effects.frames);
      events.push(...effects.events);
      settled.push({ input, error: null });
    }
    let handled = false;
    if (mustSync || this.#storage.flushWanted === true) {
      const flushWithin = this.#storage.flushWithin;
      const combined =
        flushWithin === undefined || events.length === 0
          ? null
          : (this.#sink?.handleWithin?.(events, flushWithin) ?? null);
      if (combined === null) await this.#storage.flush();
      else await combined;
      handled = combined !== null;
      this.#flushes += 1;
    }
    // Frames are queued in round order (the durable queue keeps the order of
    // its calls), but the next round does not wait for their disk write: the
    // inputs of this round resolve — a received frame is acknowledged — only
    // once the frames they caused are queued.
    const sent = this.#send(frames);
    if (!handled && events.length > 0 && this.#sink !== null) await this.#sink.handle(events);
    this.#settle(events);
    const resolveInputs = () => {
      for (const { input, error } of settled) {
        if (error === null) input.resolve();
        else input.reject(error);
      }
    };
    if (frames.length === 0) {
      resolveInputs();
      return;
    }
    const done: Promise<void> = sent.then(resolveInputs).finally(() => {
      this.#inFlightSends.delete(done);
    });
    this.#inFlightSends.add(done);
  }

  async #send(frames: FederationEffects["frames"]): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const { to, frame } of frames) {
      if (!this.#transport.isUp(to)) this.#transport.connect(to);
      const delivery = frameDelivery(frame);
      this.#frameCounts?.sent(frame.type);
      sends.push(
        this.#transport.send(to, encodeFrame(frame), delivery).catch((error: unknown) => {
          // Best-effort frames may be lost by design; a durable one that could
          // not be queued is repaired by the protocol's own repeats too.
          this.#logger.debug({ err: error, peer: to, frame: frame.type }, "frame not sent");
        }),
      );
    }
    await Promise.all(sends);
  }

  #settle(events: readonly FederationEvent[]): void {
    for (const event of events) {
      if (event.type === "peer-error") {
        this.#logger.warn({ peer: event.peer, code: event.error.code }, "peer sent a bad frame");
        continue;
      }
      if (event.type === "keys-wanted") {
        this.#wantKeys(event.servers);
        continue;
      }
      if (event.type === "commit-check-needed") {
        this.#checkSubmittedCommit(event);
        continue;
      }
      if (event.type !== "submission-result" || event.outcome.kind === "proposed") continue;
      const resolve = this.#pending.get(event.requestId);
      if (resolve === undefined) continue;
      this.#pending.delete(event.requestId);
      resolve(event.outcome);
    }
  }

  /** Checks a leaf's commit off the loop, then hands the verdict back to the host as an input. */
  #checkSubmittedCommit(event: Extract<FederationEvent, { type: "commit-check-needed" }>): void {
    const check = this.#commitCheck;
    const verdict: Promise<CommitVerdict> =
      check === null
        ? Promise.resolve({ kind: "refused", code: "unavailable", reason: "not ready to check" })
        : check(event.room, event.entry).catch((error: unknown) => {
            this.#logger.error({ err: error, room: event.room }, "checking a commit failed");
            return { kind: "refused", code: "mls_internal", reason: "the check failed" };
          });
    verdict
      .then((result) =>
        this.#enqueue((host) =>
          host.resolveCommitCheck(event.room, event.proposer, event.requestId, result),
        ),
      )
      .catch(() => {
        // The driver closed meanwhile: the leaf's proposal times out and is retried.
      });
  }

  #fail(error: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = error instanceof Error ? error : new Error(String(error));
    this.#logger.fatal({ err: error }, "federation stopped: its storage could not be made durable");
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const resolve of this.#pending.values()) {
      resolve({ kind: "refused", code: "unavailable", reason: "federation has stopped" });
    }
    this.#pending.clear();
  }
}
