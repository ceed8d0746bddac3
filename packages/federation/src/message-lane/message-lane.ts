import type { RoomId, ServerName, UserId } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { MessageVerdict as RoomMessageVerdict, RoomRejectionCode } from "@parley/room";
import type {
  BackfillRequestFrame,
  BackfillResponseFrame,
  Frame,
  MarksFrame,
  RefusalCode,
} from "../frames/frame.ts";
import { serverOfNode } from "../identity/sponsor-node-id.ts";
import { backfillMessagesPerBatchMax, recentSubmissionsPerRoomMax } from "../limits.ts";
import { AntiEntropy, type AntiEntropyTiming } from "./anti-entropy.ts";
import { HeldMessages } from "./held-messages.ts";
import type { RoomMessageStore } from "./message-store.ts";
import { OriginMarks } from "./origin-marks.ts";
import {
  type MessageId,
  type RecheckOutcome,
  type StampedMessage,
  type StoredMessage,
  submissionKey,
} from "./stamped-message.ts";

/** What the lane needs from the room's control lane at this server. */
export interface ControlView {
  /** The control index applied here (0 while the room's state is unknown). */
  readonly appliedIndex: number;
  /** `authorizeMessage` under the applied state; null while the state is unknown. */
  authorizeNow(sender: UserId): RoomMessageVerdict | null;
  /**
   * Re-checks a message stamped at `index` (at most `appliedIndex`): was
   * `origin` a sponsor and `sender` allowed to post at that index?
   * "forgotten" when the index is older than what this server can still
   * answer for (see AuthorizationHistory).
   */
  recheck(index: number, origin: ServerName, sender: UserId): RecheckOutcome;
}

/** Where the lane's effects go; the host turns them into frames and events. */
export interface LaneOutput {
  send(to: ServerName, frame: Frame): void;
  /**
   * A message was stored here for the first time; `refusal` is the
   * re-check's code when this server refused it.
   */
  stored(
    stored: StoredMessage,
    via: "accepted" | "routed" | "backfill",
    refusal?: RoomRejectionCode,
  ): void;
  /** Tree neighbours and attached leaves to forward to, leaving out the path. */
  forwardTargets(path: readonly ServerName[]): readonly ServerName[];
}

export interface Clock {
  nowMs(): number;
}

export type AcceptOutcome =
  | { readonly kind: "accepted"; readonly message: StampedMessage; readonly repeated: boolean }
  | { readonly kind: "refused"; readonly code: RefusalCode; readonly reason: string };

export interface MessageLaneOptions {
  readonly room: RoomId;
  readonly self: ServerName;
  readonly store: RoomMessageStore;
  readonly control: ControlView;
  readonly output: LaneOutput;
  readonly clock: Clock;
  readonly timing: AntiEntropyTiming;
}

/** Counters a test or an operator reads to see the lane's behaviour. */
export interface LaneStatistics {
  /** Copies of messages received that were already held (routing or backfill overlap). */
  duplicates: number;
  /** Messages dropped because their origin ran too far ahead of its contiguous mark. */
  droppedAhead: number;
  /** Messages dropped because the held queue was full. */
  droppedHeld: number;
  /** Messages re-checked as refused (never in an honest federation). */
  refused: number;
  /** Messages accepted on their sponsor's word because their index was forgotten. */
  forgotten: number;
}

/**
 * One room's message lane at one server (docs/protocol.md §§12.4–12.5). A sponsor
 * accepts and stamps messages; every server stores what reaches it once,
 * re-checks it at its stamped control index (holding it until that index
 * applies), forwards it along the tree, and repairs gaps by exchanging
 * high-water marks and pulling backfill.
 */
export class RoomMessageLane {
  readonly room: RoomId;
  readonly #self: ServerName;
  readonly #store: RoomMessageStore;
  readonly #control: ControlView;
  readonly #output: LaneOutput;
  readonly #clock: Clock;
  readonly #marks: OriginMarks;
  readonly #held = new HeldMessages();
  readonly #antiEntropy: AntiEntropy;
  /** (sender, client message id) → id, so a retried submission gets its first stamp back. */
  readonly #recentSubmissions = new Map<string, MessageId>();
  readonly statistics: LaneStatistics = {
    duplicates: 0,
    droppedAhead: 0,
    droppedHeld: 0,
    refused: 0,
    forgotten: 0,
  };

  constructor(options: MessageLaneOptions) {
    this.room = options.room;
    this.#self = options.self;
    this.#store = options.store;
    this.#control = options.control;
    this.#output = options.output;
    this.#clock = options.clock;
    this.#marks = OriginMarks.fromStore(options.store);
    this.#antiEntropy = new AntiEntropy(options.timing);
  }

  get heldCount(): number {
    return this.#held.size;
  }

  /**
   * A sponsor accepts a message from `sender` as `origin` (its node id in
   * the room). It checks the sender under its applied state, stamps, stores
   * and forwards. The caller has authenticated the sender's device. A
   * submission already stamped — here, or by another sponsor whose stamp
   * reached this one — is answered with that stamp (`repeated`), from a
   * bounded memory of recent submissions.
   */
  accept(origin: NodeId, sender: UserId, clientMessageId: string, body: Uint8Array): AcceptOutcome {
    const submission = submissionKey({ sender, clientMessageId });
    const earlier = this.#recentSubmissions.get(submission);
    const earlierStored = earlier === undefined ? undefined : this.#store.get(earlier);
    if (earlierStored !== undefined) {
      return { kind: "accepted", message: earlierStored.message, repeated: true };
    }
    const verdict = this.#control.authorizeNow(sender);
    if (verdict === null) return refused("unavailable", "the room's state is not known here yet");
    if (!verdict.allowed) return refused(verdict.code, verdict.reason);
    const last = this.#store.last(origin)?.message;
    const controlIndex = this.#control.appliedIndex;
    if (last !== undefined && last.controlIndex > controlIndex) {
      // After a restart, until the state catches up with what we stamped before.
      return refused("unavailable", "catching up with the control log");
    }
    const message: StampedMessage = {
      room: this.room,
      origin,
      sequence: (last?.sequence ?? 0) + 1,
      controlIndex,
      acceptedAtMs: Math.max(this.#clock.nowMs(), last?.acceptedAtMs ?? 0),
      sender,
      clientMessageId,
      body,
    };
    this.#remember(submission, message);
    this.#storeAndForward({ message, verdict: "allowed" }, [this.#self], "accepted");
    return { kind: "accepted", message, repeated: false };
  }

  /** A message from a peer, by routing or backfill. */
  receive(message: StampedMessage, path: readonly ServerName[], via: "routed" | "backfill"): void {
    const outcome = this.#marks.check(message.origin, message.sequence);
    if (outcome === "duplicate" || this.#held.has(message)) {
      this.statistics.duplicates += 1;
      return;
    }
    if (outcome !== "new") {
      this.statistics.droppedAhead += 1;
      return;
    }
    if (message.controlIndex > this.#control.appliedIndex) {
      if (!this.#held.hold({ message, path, via })) this.statistics.droppedHeld += 1;
      return;
    }
    this.#verifyAndStore(message, path, via);
  }

  /** The control lane applied more entries: re-check and store the messages waiting for them. */
  controlAdvanced(): void {
    for (const held of this.#held.release(this.#control.appliedIndex)) {
      if (this.#marks.check(held.message.origin, held.message.sequence) !== "new") continue;
      this.#verifyAndStore(held.message, held.path, held.via);
    }
  }

  /** Sends marks to partners that are due them and backfill requests that are due. */
  antiEntropy(partners: readonly ServerName[], nowTick: number): void {
    const mine = this.#marks.list();
    for (const peer of this.#antiEntropy.partnersDue(
      partners,
      mine,
      this.#marks.version,
      nowTick,
    )) {
      this.#output.send(peer, this.marksFrame(mine));
    }
    const contiguous = (origin: NodeId) => this.#marks.contiguous(origin);
    for (const pull of this.#antiEntropy.pullsDue(contiguous, nowTick)) {
      this.#output.send(pull.peer, this.#request(pull.origin));
    }
  }

  marksFrame(marks = this.#marks.list()): MarksFrame {
    return { type: "marks", room: this.room, controlIndex: this.#control.appliedIndex, marks };
  }

  onMarks(from: ServerName, frame: MarksFrame, nowTick: number): void {
    const contiguous = (origin: NodeId) => this.#marks.contiguous(origin);
    this.#antiEntropy.receivedMarks(from, frame.marks, contiguous, nowTick);
  }

  onBackfillRequest(frame: BackfillRequestFrame): BackfillResponseFrame {
    const countMax = Math.min(frame.countMax, backfillMessagesPerBatchMax);
    const found = this.#store.after(frame.origin, frame.after, countMax);
    return {
      type: "backfill-response",
      room: this.room,
      origin: frame.origin,
      messages: found.map((stored) => stored.message),
    };
  }

  onBackfillResponse(from: ServerName, frame: BackfillResponseFrame, nowTick: number): void {
    const before = this.#marks.contiguous(frame.origin);
    for (const message of frame.messages) this.receive(message, [from], "backfill");
    const after = this.#marks.contiguous(frame.origin);
    const next = this.#antiEntropy.responded(from, frame.origin, after > before, after, nowTick);
    if (next !== null) this.#output.send(from, this.#request(frame.origin));
  }

  /** A link or attachment ended: stop pulling from that peer. */
  forgetPeer(peer: ServerName): void {
    this.#antiEntropy.forget(peer);
  }

  contiguous(origin: NodeId): number {
    return this.#marks.contiguous(origin);
  }

  marks() {
    return this.#marks.list();
  }

  #request(origin: NodeId): BackfillRequestFrame {
    return {
      type: "backfill-request",
      room: this.room,
      origin,
      after: this.#marks.contiguous(origin),
      countMax: backfillMessagesPerBatchMax,
    };
  }

  #verifyAndStore(
    message: StampedMessage,
    path: readonly ServerName[],
    via: "routed" | "backfill",
  ): void {
    const outcome = this.#control.recheck(
      message.controlIndex,
      serverOfNode(message.origin),
      message.sender,
    );
    if (outcome.verdict === "refused") this.statistics.refused += 1;
    if (outcome.verdict === "forgotten") this.statistics.forgotten += 1;
    const stored: StoredMessage = {
      message,
      verdict: outcome.verdict === "refused" ? "refused" : "allowed",
    };
    this.#storeAndForward(
      stored,
      [...path, this.#self],
      via,
      outcome.verdict === "refused" ? outcome.code : undefined,
    );
  }

  #storeAndForward(
    stored: StoredMessage,
    path: readonly ServerName[],
    via: "accepted" | "routed" | "backfill",
    refusal?: RoomRejectionCode,
  ): void {
    const { message } = stored;
    if (!this.#store.put(stored)) return;
    this.#marks.add(message.origin, message.sequence);
    // Another sponsor's stamp answers a leaf that repeats the submission here
    // after failing over, instead of a second stamp of the same message.
    if (via !== "accepted" && stored.verdict === "allowed") {
      const submission = submissionKey(message);
      if (!this.#recentSubmissions.has(submission)) this.#remember(submission, message);
    }
    this.#output.stored(stored, via, refusal);
    for (const target of this.#output.forwardTargets(path)) {
      this.#output.send(target, { type: "routed", message, path });
    }
  }

  #remember(submission: string, id: MessageId): void {
    if (this.#recentSubmissions.size >= recentSubmissionsPerRoomMax) {
      const oldest = this.#recentSubmissions.keys().next();
      if (oldest.done !== true) this.#recentSubmissions.delete(oldest.value);
    }
    this.#recentSubmissions.set(submission, { origin: id.origin, sequence: id.sequence });
  }
}

function refused(code: RefusalCode, reason: string): AcceptOutcome {
  return { kind: "refused", code, reason };
}
