// The messages this device has signed and not yet seen accepted. Each one is
// persisted before its first request, sent with bounded automatic retries
// when there was no answer (or the server was busy), and reported at every
// step: pending, accepted, failed. A retry always sends the same signed
// envelope, so the server stores it once whatever happened to the answers.

import {
  type AcceptedMessageJson,
  type DeliveryItemJson,
  decodeBase64url,
  ParleyError,
  type RoomId,
} from "@parley/protocol";
import { isTransient } from "../errors.ts";
import type { DeliveryEvent } from "../events/client-events.ts";
import type { SavedOutgoing, SavedState } from "../store/saved-state.ts";
import { type BackoffPolicy, backoffDelayMs } from "../stream/backoff.ts";
import {
  type Acceptance,
  type DeliveryInput,
  type DeliveryState,
  initialDeliveryState,
  nextDeliveryState,
} from "./delivery-state.ts";

/** A message this device sent, with its delivery truth. */
export interface OutgoingMessage {
  readonly roomId: RoomId;
  /** The id this client chose; the message's timeline event carries it too. */
  readonly clientId: string;
  readonly contentType: string;
  readonly body: Uint8Array;
  /** The body as text for `text/*` content types. */
  readonly text: string | undefined;
  readonly createdAtMs: number;
  /** The current delivery state; every change is also a `delivery` event. */
  readonly state: DeliveryState;
  /** Sends again after a failure (the same envelope: never a duplicate). Does nothing in another state. */
  retry(): void;
  /** Gives up on a failed message: it leaves the outbox and is not retried after a restart. */
  discard(): Promise<void>;
  /** Resolves with the state once the message is accepted or failed. Never rejects. */
  settled(): Promise<DeliveryState>;
}

export interface OutboxDependencies {
  readonly saved: SavedState;
  readonly post: (roomId: RoomId, envelope: string) => Promise<AcceptedMessageJson>;
  readonly emit: (event: DeliveryEvent) => void;
  readonly backoff: BackoffPolicy;
  /** Requests per message before it is reported failed (each `retry()` allows as many again). */
  readonly attemptsMax: number;
  readonly random: () => number;
}

/** How many settled messages the outbox remembers (for `find` and for late stream echoes). */
const acceptedKeptMax = 1000;

const textDecoder = new TextDecoder("utf-8", { fatal: false });

class Outgoing implements OutgoingMessage {
  readonly roomId: RoomId;
  readonly clientId: string;
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly text: string | undefined;
  readonly createdAtMs: number;
  readonly saved: SavedOutgoing;
  #state: DeliveryState = initialDeliveryState;
  #waiters: Array<(state: DeliveryState) => void> = [];
  readonly #outbox: Outbox;

  constructor(outbox: Outbox, saved: SavedOutgoing) {
    this.#outbox = outbox;
    this.saved = saved;
    this.roomId = saved.roomId as RoomId;
    this.clientId = saved.clientId;
    this.contentType = saved.contentType;
    this.body = decodeBase64url(saved.body);
    this.text = saved.contentType.startsWith("text/") ? textDecoder.decode(this.body) : undefined;
    this.createdAtMs = saved.createdAtMs;
  }

  get state(): DeliveryState {
    return this.#state;
  }

  retry(): void {
    if (this.#state.status !== "failed") return;
    this.#outbox.transition(this, { type: "retry" });
    void this.#outbox.deliver(this);
  }

  async discard(): Promise<void> {
    if (this.#state.status !== "failed") return;
    await this.#outbox.remove(this);
  }

  settled(): Promise<DeliveryState> {
    if (this.#state.status !== "pending") return Promise.resolve(this.#state);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Only the outbox moves the state, through the pure machine. */
  apply(input: DeliveryInput): DeliveryState {
    this.#state = nextDeliveryState(this.#state, input);
    if (this.#state.status !== "pending") {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake(this.#state);
    }
    return this.#state;
  }
}

function acceptanceOf(answer: AcceptedMessageJson): Acceptance {
  return {
    sequence: answer.sequence,
    streamPosition: answer.streamPosition,
    acceptedAtMs: answer.acceptedAtMs,
    controlIndex: answer.controlIndex,
  };
}

export class Outbox {
  readonly #dependencies: OutboxDependencies;
  /** By `roomId clientId`; accepted messages stay so a late echo finds them. */
  readonly #messages = new Map<string, Outgoing>();
  #persisting: Promise<void> = Promise.resolve();

  constructor(dependencies: OutboxDependencies) {
    this.#dependencies = dependencies;
  }

  /** Persists a signed message, then sends it. */
  async send(saved: SavedOutgoing): Promise<OutgoingMessage> {
    const message = this.#track(saved);
    await this.#persist();
    void this.deliver(message);
    return message;
  }

  /** Sends again what a previous run left unaccepted. */
  async resume(): Promise<readonly OutgoingMessage[]> {
    const saved = await this.#dependencies.saved.outbox();
    const resumed = saved
      .filter((item) => !this.#messages.has(`${item.roomId} ${item.clientId}`))
      .map((item) => this.#track(item));
    for (const message of resumed) void this.deliver(message);
    return resumed;
  }

  find(roomId: string, clientId: string): OutgoingMessage | undefined {
    return this.#messages.get(`${roomId} ${clientId}`);
  }

  /** Messages not accepted yet: pending or failed. */
  unaccepted(): OutgoingMessage[] {
    return [...this.#messages.values()].filter(
      (message) => message.state.status === "pending" || message.state.status === "failed",
    );
  }

  /**
   * The server's stream showed our own message: it was accepted even if the
   * answer to our request was lost.
   */
  async sawAccepted(roomId: string, clientId: string, acceptance: Acceptance): Promise<void> {
    const message = this.#messages.get(`${roomId} ${clientId}`);
    if (message === undefined || message.state.status === "accepted") return;
    if (message.state.status === "delivered") return;
    this.transition(message, { type: "accepted", acceptance });
    await this.#persist();
  }

  /**
   * Counts the sender's server reported (`delivery` items, §10.14). An item
   * names a message by its stream position; one this outbox no longer holds,
   * or that is not accepted yet, is ignored (counts arrive again after the
   * next `ready`). A message every server holds becomes `delivered`.
   */
  progress(items: readonly DeliveryItemJson[], atMs: number): void {
    if (items.length === 0) return;
    const byPosition = new Map<string, Outgoing>();
    for (const message of this.#messages.values()) {
      const state = message.state;
      if (state.status === "accepted" || state.status === "delivered") {
        byPosition.set(`${message.roomId} ${state.streamPosition}`, message);
      }
    }
    for (const item of items) {
      const message = byPosition.get(`${item.roomId} ${item.position}`);
      if (message === undefined) continue;
      const progress = {
        servers: item.servers,
        devices: item.devices,
        refusedBy: item.refused,
      };
      this.transition(message, { type: "progress", progress, atMs });
    }
  }

  transition(message: Outgoing, input: DeliveryInput): void {
    const state = message.apply(input);
    this.#dependencies.emit({
      type: "delivery",
      roomId: message.roomId,
      clientId: message.clientId,
      state,
    });
  }

  async remove(message: Outgoing): Promise<void> {
    this.#messages.delete(`${message.roomId} ${message.clientId}`);
    await this.#persist();
  }

  /** Sends until accepted, refused, or out of attempts. */
  async deliver(message: Outgoing): Promise<void> {
    const { post, attemptsMax, backoff, random } = this.#dependencies;
    for (let attempt = 1; message.state.status === "pending"; attempt += 1) {
      this.transition(message, { type: "attempt" });
      try {
        const answer = await post(message.roomId, message.saved.envelope);
        if (message.state.status === "pending") {
          this.transition(message, { type: "accepted", acceptance: acceptanceOf(answer) });
        }
        break;
      } catch (thrown) {
        const error =
          thrown instanceof ParleyError
            ? thrown
            : new ParleyError("internal", "sending failed", { cause: thrown });
        if (message.state.status !== "pending") break;
        if (!isTransient(error) || attempt >= attemptsMax) {
          this.transition(message, { type: "failed", error });
          break;
        }
        const delayMs = error.retryAfterMs ?? backoffDelayMs(backoff, attempt, random());
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    await this.#persist();
  }

  /** Accepted messages are kept only so late echoes find them; the oldest go first. */
  #forgetOldAccepted(): void {
    let excess = this.#messages.size - acceptedKeptMax;
    for (const [key, message] of this.#messages) {
      if (excess <= 0) break;
      if (message.state.status === "pending" || message.state.status === "failed") continue;
      this.#messages.delete(key);
      excess -= 1;
    }
  }

  #track(saved: SavedOutgoing): Outgoing {
    const key = `${saved.roomId} ${saved.clientId}`;
    const existing = this.#messages.get(key);
    if (existing !== undefined) return existing;
    const message = new Outgoing(this, saved);
    this.#messages.set(key, message);
    return message;
  }

  /** Writes the unaccepted messages; writes are chained so the last one wins. */
  #persist(): Promise<void> {
    this.#forgetOldAccepted();
    // A failed write must not block later ones; its caller sees the error.
    this.#persisting = this.#persisting
      .catch(() => undefined)
      .then(() =>
        this.#dependencies.saved.saveOutbox(
          [...this.#messages.values()]
            .filter(
              (message) => message.state.status === "pending" || message.state.status === "failed",
            )
            .map((message) => message.saved),
        ),
      );
    return this.#persisting;
  }
}
