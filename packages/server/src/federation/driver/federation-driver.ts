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
// Rounds of messages alone (step 2's combined path) overlap: once such a
// round's transaction is handed to storage, the next round runs while the
// disk syncs it, and steps 3–5 of the round follow when it is durable, in
// round order (round-pipeline.ts). Any other round first waits until no
// round is under way, then runs as above.
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
import type { FrameCounts } from "../frame-counts.ts";
import {
  driverInputsPerFlushMax,
  driverInputsQueuedMax,
  driverRoundsInFlightMax,
  linkUpkeepTicks,
} from "../limits.ts";
import type {
  FederationDriverOptions,
  FederationEventSink,
  FederationLinkHandlers,
  FederationTransport,
  FlushableFederationStorage,
  SubmittedCommitCheck,
} from "./federation-transport.ts";
import { frameDelivery } from "./frame-delivery.ts";
import { type FinalOutcome, LocalRequests } from "./local-requests.ts";
import { roomServers } from "./room-servers.ts";
import { type Durability, RoundPipeline } from "./round-pipeline.ts";

interface QueuedInput {
  readonly run: (host: FederationHost) => FederationEffects;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export type { FederationEventSink, SubmittedCommitCheck } from "./federation-transport.ts";
export type { FinalOutcome } from "./local-requests.ts";

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
  /** Rounds of messages waiting for their transaction to be durable. */
  readonly #pipeline = new RoundPipeline(driverRoundsInFlightMax);
  #running: Promise<void> | null = null;
  #tickQueued = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #failure: Error | null = null;
  readonly #requests: LocalRequests;
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
    this.#requests = new LocalRequests(options.firstRequestId);
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
      pending: this.#requests.size,
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
    const requestId = this.#requests.takeRequestId();
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
    await this.#pipeline.drained();
    await Promise.all(this.#inFlightSends);
    if (this.#failure === null) {
      try {
        await this.#storage.flush();
      } catch (error) {
        this.#fail(error);
      }
    }
    this.#requests.refuseAll("the server is shutting down");
  }

  // ---------------------------------------------------------------------
  // The loop
  // ---------------------------------------------------------------------

  #submit(
    run: (host: FederationHost, requestId: number) => FederationEffects,
  ): Promise<FinalOutcome> {
    let opened: ReturnType<LocalRequests["open"]>;
    try {
      opened = this.#requests.open();
    } catch (error) {
      return Promise.reject(error);
    }
    const { requestId, outcome } = opened;
    this.#enqueue((host) => run(host, requestId)).catch((error: unknown) => {
      this.#requests.refuse(requestId, isParleyError(error) ? error.message : "the request failed");
    });
    return outcome;
  }

  #queueTick(): void {
    if (this.#tickQueued || this.#closed) return;
    this.#tickQueued = true;
    this.#enqueue((host) => {
      this.#tickQueued = false;
      if (host.currentTick % linkUpkeepTicks === 0) {
        for (const peer of roomServers(host)) {
          if (!this.#transport.isUp(peer)) this.#transport.connect(peer);
        }
      }
      return host.tick();
    }).catch(() => {});
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
      await this.#pipeline.room();
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
    const flushing = mustSync || this.#storage.flushWanted === true;
    const flushWithin = this.#storage.flushWithin;
    const combined =
      !flushing || flushWithin === undefined || events.length === 0
        ? null
        : (this.#sink?.handleWithin?.(events, flushWithin) ?? null);
    if (combined !== null) {
      this.#pipeline.add(combined, (outcome) => this.#finish(outcome, frames, events, settled));
      return;
    }
    // Anything else runs alone: after every round under way has finished.
    await this.#pipeline.drained();
    if (flushing) {
      await this.#storage.flush();
      this.#flushes += 1;
    }
    // Frames are queued in round order (the durable queue keeps the order of
    // its calls), but the next round does not wait for their disk write: the
    // inputs of this round resolve — a received frame is acknowledged — only
    // once the frames they caused are queued.
    const sent = this.#send(frames);
    if (events.length > 0 && this.#sink !== null) await this.#sink.handle(events);
    this.#settle(events);
    this.#resolveOnceSent(sent, frames.length, settled);
  }

  /** The end of a round of messages, once its transaction is durable (or failed). */
  #finish(
    outcome: Durability,
    frames: FederationEffects["frames"],
    events: readonly FederationEvent[],
    settled: ReadonlyArray<{ input: QueuedInput; error: unknown }>,
  ): void {
    try {
      if (!outcome.durable) throw outcome.error;
      this.#flushes += 1;
      const sent = this.#send(frames);
      this.#settle(events);
      this.#resolveOnceSent(sent, frames.length, settled);
    } catch (error) {
      this.#fail(error);
      for (const { input } of settled) input.reject(error);
    }
  }

  #resolveOnceSent(
    sent: Promise<void>,
    frameCount: number,
    settled: ReadonlyArray<{ input: QueuedInput; error: unknown }>,
  ): void {
    const resolveInputs = () => {
      for (const { input, error } of settled) {
        if (error === null) input.resolve();
        else input.reject(error);
      }
    };
    if (frameCount === 0) {
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
      if (event.type === "commit-check-needed") this.#checkSubmittedCommit(event);
    }
    this.#requests.settle(events);
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
    this.#requests.refuseAll("federation has stopped");
  }
}
