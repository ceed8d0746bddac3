import type { ParleyError, RoomId, ServerName, UserId } from "@parley/protocol";
import type { ApplyOutcome, ControlEntry, Membership, RoomRejectionCode } from "@parley/room";
import type { ControlRecord } from "../control-lane/control-record.ts";
import type { Frame, SubmissionOutcome } from "../frames/frame.ts";
import type { StoredMessage } from "../message-lane/stamped-message.ts";

/** The outcome of a local user's submission, as the host reports it. */
export type LocalSubmissionOutcome =
  | SubmissionOutcome
  /** A control proposal committed at `index`; the state machine accepted or rejected it there. */
  | { readonly kind: "committed"; readonly index: number; readonly outcome: ApplyOutcome }
  /** No answer in time: the outcome is unknown (a control entry may still commit). */
  | { readonly kind: "timed-out" };

/** A user whose membership a control record changed (the record's actor or target). */
export interface MembershipChange {
  readonly user: UserId;
  readonly before: Membership | "none";
  readonly after: Membership;
}

/** What the homeserver around the core learns from it. */
export type FederationEvent =
  /**
   * A message was stored here for the first time (its verdict says whether
   * to show it; `refusal` is the re-check's code when this server refused it).
   */
  | {
      readonly type: "message-stored";
      readonly room: RoomId;
      readonly stored: StoredMessage;
      readonly via: "accepted" | "routed" | "backfill";
      readonly refusal?: RoomRejectionCode;
    }
  /**
   * A control record applied here at `index` (also the create record of a
   * room created here, at index 1). `chainHash` is the chain hash after it;
   * `memberships` the users whose membership it changed; `roomName` the
   * room's name after it (for notices). Replayed after a restart for records
   * the Raft log holds after its snapshot: consumers must be idempotent.
   */
  | {
      readonly type: "control-applied";
      readonly room: RoomId;
      readonly index: number;
      readonly record: ControlRecord;
      readonly outcome: ApplyOutcome;
      readonly chainHash: Uint8Array;
      readonly memberships: readonly MembershipChange[];
      readonly roomName: string;
    }
  /** The room's state was replaced by a snapshot at `index` (catch-up). */
  | { readonly type: "state-restored"; readonly room: RoomId; readonly index: number }
  /** The outcome of a submission made through this server (`requestId` is the caller's). */
  | {
      readonly type: "submission-result";
      readonly room: RoomId;
      readonly requestId: number;
      readonly outcome: LocalSubmissionOutcome;
    }
  /**
   * A leaf submitted an entry carrying an MLS commit. Checking it takes the
   * MLS library, which is asynchronous, so the host does not propose it
   * yet: the homeserver checks it (CommitChecker) against the room state it
   * reads from the host and answers with `resolveCommitCheck`.
   */
  | {
      readonly type: "commit-check-needed";
      readonly room: RoomId;
      readonly proposer: ServerName;
      readonly requestId: number;
      readonly entry: ControlEntry;
    }
  /** A peer sent something unusable; the wiring may close the link with `error.closeCode`. */
  | { readonly type: "peer-error"; readonly peer: ServerName; readonly error: ParleyError }
  /** A certificate names signers whose key documents are not at hand: fetch them (§12.6.1). */
  | { readonly type: "keys-wanted"; readonly servers: readonly ServerName[] };

export interface OutgoingFrame {
  readonly to: ServerName;
  readonly frame: Frame;
}

/**
 * What one input produced. The caller first makes the storage writes of
 * this round durable (when `mustSync`; a server may share one sync among
 * several rounds as long as no frame leaves before its sync), then sends the
 * frames, then hands the events to the rest of the homeserver.
 */
export interface FederationEffects {
  readonly frames: readonly OutgoingFrame[];
  readonly events: readonly FederationEvent[];
  readonly mustSync: boolean;
}

/** Collects effects while an input is handled. */
export class Outbox {
  #frames: OutgoingFrame[] = [];
  #events: FederationEvent[] = [];
  #mustSync = false;

  send(to: ServerName, frame: Frame): void {
    this.#frames.push({ to, frame });
  }

  emit(event: FederationEvent): void {
    this.#events.push(event);
  }

  needSync(): void {
    this.#mustSync = true;
  }

  drain(): FederationEffects {
    const effects = { frames: this.#frames, events: this.#events, mustSync: this.#mustSync };
    this.#frames = [];
    this.#events = [];
    this.#mustSync = false;
    return effects;
  }
}
