// Encrypted rooms (docs/protocol.md §10.13): creating a room with its MLS
// group, submitting commits with the room action they claim, serving the
// applied commits and the current GroupInfo, and the framing check of
// application messages. The server never decrypts anything: what it checks
// of a commit is the sponsors' public check (§13.8, CommitChecker in
// @parley/federation), and of a message the PrivateMessage's clear header.

import { type CommitChecker, federationLimits, type RefusalCode } from "@parley/federation";
import { groupIdOf, mlsLimits, readPrivateMessageHeader } from "@parley/mls";
import { isErrorCode, ParleyError, type RoomId, type UserId } from "@parley/protocol";
import {
  type ControlEntry,
  decodeControlEntry,
  encodeControlEntry,
  parseRoomAction,
  type RoomState,
} from "@parley/room";
import type { FederationRuntime } from "../federation/federation-runtime.ts";
import type { Storage } from "../storage/storage.ts";
import { controlEventContentType } from "./control-events.ts";
import { roomRefusal } from "./room-refusals.ts";
import type { Actor, RoomService } from "./room-service.ts";
import { outcomeError } from "./submission-outcomes.ts";

/** The content type of an encrypted room's messages on the wire (RFC 9420 §17.10). */
export const mlsMessageContentType = "message/mls";

/** A commit lost to another of the same epoch: the client fetches the winner and retries. */
export class StaleEpochError extends ParleyError {
  readonly epoch: number;
  readonly controlIndex: number;

  constructor(message: string, epoch: number, controlIndex: number) {
    super("mls_stale_epoch", message);
    this.epoch = epoch;
    this.controlIndex = controlIndex;
  }
}

export interface CommitInput {
  readonly action: unknown;
  readonly epoch: number;
  readonly commit: Uint8Array;
  readonly groupInfo: Uint8Array;
  readonly ratchetTree: Uint8Array;
  readonly welcome?: Uint8Array | undefined;
}

export interface AppliedCommit {
  readonly epoch: number;
  readonly controlIndex: number;
  readonly entry: ControlEntry;
}

/** Events looked at, newest first, when collecting a room's commits (the stream's retention is 10,000). */
const commitScanEventsMax = 20_000;
/** Commit bytes in one page of `GET …/mls/commits` (a page holds at least one): large groups' commits are large. */
const commitsPageBytesTarget = 4 * 1024 * 1024;
const commitScanPageSize = 500;
/** Room of the record around an entry (proposer, proposal id) under the federation's record limit. */
const recordOverheadBytes = 1024;

export interface EncryptedRoomsDependencies {
  readonly rooms: RoomService;
  readonly federation: FederationRuntime;
  readonly storage: Storage;
  readonly checker: CommitChecker;
  readonly nowMs: () => number;
}

export class EncryptedRooms {
  readonly #dependencies: EncryptedRoomsDependencies;

  constructor(dependencies: EncryptedRoomsDependencies) {
    this.#dependencies = dependencies;
  }

  /** The room id and group id a creation with this client id gets. */
  roomIdFor(actor: Actor, clientId: string): { roomId: RoomId; groupId: Uint8Array } {
    const roomId = this.#dependencies.rooms.roomIdFor(actor.deviceId, clientId);
    return { roomId, groupId: groupIdOf(roomId, 0) };
  }

  /** Checks the creator's new group (epoch 0, only the creating device); throws its MLS code. */
  async checkCreatedGroup(
    actor: Actor,
    roomId: RoomId,
    mls: { readonly groupInfo: Uint8Array; readonly ratchetTree: Uint8Array },
  ): Promise<void> {
    const verdict = await this.#dependencies.checker.checkCreated(
      roomId,
      { user: actor.userId, device: actor.deviceId },
      mls.groupInfo,
      mls.ratchetTree,
    );
    if (verdict.kind === "refused") throw refusalError(verdict.code, verdict.reason);
  }

  /** Submits a commit with the action it claims; answers once the entry applied. */
  async commit(
    actor: Actor,
    roomId: RoomId,
    input: CommitInput,
  ): Promise<{ logIndex: number; epoch: number }> {
    const action = parseRoomAction(input.action);
    if (!["invite", "join", "kick", "ban", "mls-commit"].includes(action.type)) {
      throw new ParleyError("bad_structure", `a ${action.type} carries no commit`);
    }
    const state = await this.#encryptedState(roomId);
    const draft: ControlEntry = {
      actor: { type: "user", user: actor.userId },
      action,
      proposedAtMs: this.#dependencies.nowMs(),
      mls: {
        epoch: input.epoch,
        commit: input.commit,
        groupInfo: input.groupInfo,
        ratchetTree: input.ratchetTree,
        welcome: input.welcome ?? null,
        added: [],
      },
    };
    const verdict = await this.#dependencies.checker.check(state, draft, {
      nowMs: this.#dependencies.nowMs(),
      fillAdded: true,
    });
    if (verdict.kind === "refused") {
      if (verdict.code === "mls_stale_epoch") throw staleError(state, verdict.reason);
      throw refusalError(verdict.code, verdict.reason);
    }
    if (verdict.committer.device !== actor.deviceId) {
      throw new ParleyError("mls_rule_violation", "the committer is not this session's device");
    }
    const entryBytes = encodeControlEntry(verdict.entry).length;
    if (entryBytes + recordOverheadBytes > federationLimits.controlRecordBytesMax) {
      throw new ParleyError(
        "payload_too_large",
        `the entry is ${entryBytes} bytes; a control record holds ${federationLimits.controlRecordBytesMax}`,
      );
    }
    const outcome = await this.#dependencies.federation.driver.proposeControl(
      roomId,
      verdict.entry,
    );
    if (outcome.kind === "refused" && outcome.code === "mls_stale_epoch") {
      throw staleError(await this.#encryptedState(roomId), outcome.reason);
    }
    if (outcome.kind !== "committed") throw outcomeError(outcome);
    if (outcome.outcome.verdict === "rejected") {
      if (outcome.outcome.code === "mls_stale_epoch") {
        throw staleError(await this.#encryptedState(roomId), outcome.outcome.reason);
      }
      throw roomRefusal(outcome.outcome.code, outcome.outcome.reason);
    }
    return { logIndex: outcome.index, epoch: input.epoch + 1 };
  }

  /**
   * The applied commits made in epochs `from` and later, oldest first. Only
   * applied entries are control events in the stream, so a commit that lost
   * (stale) is never among them.
   */
  async commits(
    user: UserId,
    roomId: RoomId,
    from: number,
    limit: number,
  ): Promise<{ commits: AppliedCommit[]; more: boolean }> {
    const state = await this.#memberState(roomId, user);
    const current = state.mls?.epoch ?? 0;
    if (from >= current) return { commits: [], more: false };
    const found: AppliedCommit[] = [];
    const events = this.#dependencies.storage.events;
    let fromSequence = Number.MAX_SAFE_INTEGER;
    for (let scanned = 0; scanned < commitScanEventsMax; scanned += commitScanPageSize) {
      const page = await events.pageRoom({
        roomId,
        fromSequence,
        direction: "backward",
        limit: commitScanPageSize,
      });
      for (const event of page.items) {
        fromSequence = event.roomSequence;
        if (event.contentType !== controlEventContentType) continue;
        const entry = decodeControlEntry(event.body);
        const mls = entry.mls;
        if (mls === undefined) continue;
        if (mls.commit === null || mls.epoch < from) return finish(found, limit);
        found.push({ epoch: mls.epoch, controlIndex: event.controlIndex, entry });
      }
      if (!page.more) return finish(found, limit);
    }
    throw new ParleyError(
      "mls_epoch_too_old",
      "commits of that epoch are no longer kept here; rejoin from the GroupInfo (§13.9)",
    );
  }

  /** The current epoch's GroupInfo and tree, for an external join or a rejoin. */
  async groupInfo(
    user: UserId,
    roomId: RoomId,
    via: readonly string[],
  ): Promise<{
    epoch: number;
    controlIndex: number;
    groupInfo: Uint8Array;
    ratchetTree: Uint8Array;
  }> {
    const rooms = this.#dependencies.rooms;
    if ((await rooms.appliedState(roomId)) === undefined && via.length > 0) {
      await rooms.follow(roomId, via);
    }
    const state = await this.#encryptedState(roomId);
    const membership = state.members.get(user)?.membership;
    if (membership !== "joined" && membership !== "invited" && state.joinRule !== "open") {
      throw roomRefusal("not_member", "only members and invitees fetch the group of this room");
    }
    const mls = state.mls;
    if (mls === undefined) throw new ParleyError("bad_structure", "not an encrypted room");
    return {
      epoch: mls.epoch,
      controlIndex: mls.sinceIndex,
      groupInfo: mls.groupInfo,
      ratchetTree: mls.ratchetTree,
    };
  }

  /** A leaf's commit, checked by this sponsor before it proposes it (§13.8). */
  checkSubmitted(roomId: RoomId, entry: ControlEntry) {
    const state = this.#dependencies.federation.driver.view(
      (host) => host.session(roomId)?.replica.state,
    );
    if (state === undefined) {
      return Promise.resolve({
        kind: "refused",
        code: "room_unknown",
        reason: "no such room here",
      } as const);
    }
    return this.#dependencies.checker.check(state, entry, {
      nowMs: this.#dependencies.nowMs(),
      fillAdded: false,
    });
  }

  async #encryptedState(roomId: RoomId): Promise<RoomState> {
    const state = await this.#dependencies.rooms.appliedState(roomId);
    if (state === undefined) throw new ParleyError("not_found", "no such room");
    if (state.mls === undefined) throw new ParleyError("bad_structure", "not an encrypted room");
    return state;
  }

  async #memberState(roomId: RoomId, user: UserId): Promise<RoomState> {
    const state = await this.#encryptedState(roomId);
    const membership = state.members.get(user)?.membership;
    if (membership !== "joined" && membership !== "invited") {
      throw roomRefusal("not_member", "only members and invitees read a room's commits");
    }
    return state;
  }
}

/**
 * The framing check of an encrypted room's message body (§10.13): a
 * PrivateMessage of the room's group, application content, of an epoch
 * within the past-epoch window of the room's current one.
 */
export function checkEncryptedMessage(
  state: RoomState,
  contentType: string,
  body: Uint8Array,
): void {
  const mls = state.mls;
  if (mls === undefined) return;
  if (contentType !== mlsMessageContentType) {
    throw new ParleyError(
      "bad_structure",
      `an encrypted room's messages are ${mlsMessageContentType}`,
    );
  }
  const read = readPrivateMessageHeader(body);
  if (read.kind === "failed") throw refusalError(read.code, read.detail);
  const header = read.header;
  if (header.roomId !== state.roomId || header.generation !== 0) {
    throw new ParleyError("mls_wrong_group", "the message is for another room's group");
  }
  if (header.contentType !== "application") {
    throw new ParleyError("mls_rule_violation", "only application messages travel as messages");
  }
  const epoch = Number(header.epoch);
  if (epoch > mls.epoch) {
    throw new ParleyError("mls_epoch_in_future", `epoch ${epoch}; the room is at ${mls.epoch}`);
  }
  if (epoch < mls.epoch - mlsLimits.pastEpochWindow) {
    throw new ParleyError("mls_epoch_too_old", `epoch ${epoch}; the room is at ${mls.epoch}`);
  }
}

/**
 * The framing check as a sponsor's refusal of a leaf's submitted message
 * (§12.7): null when the body may be stamped (or the room is plain, or not
 * known here, where the core answers for itself).
 */
export function framingRefusal(
  state: RoomState | undefined,
  contentType: string,
  body: Uint8Array,
): { readonly code: RefusalCode; readonly reason: string } | null {
  if (state === undefined) return null;
  try {
    checkEncryptedMessage(state, contentType, body);
    return null;
  } catch (error) {
    if (!(error instanceof ParleyError)) throw error;
    const code = error.code.startsWith("mls_") ? (error.code as RefusalCode) : "mls_malformed";
    return { code, reason: error.message };
  }
}

function finish(
  found: AppliedCommit[],
  limit: number,
): { commits: AppliedCommit[]; more: boolean } {
  const ascending = found.reverse();
  const commits: AppliedCommit[] = [];
  let bytes = 0;
  for (const applied of ascending) {
    if (commits.length === limit) break;
    const size = applied.entry.mls?.commit?.length ?? 0;
    if (commits.length > 0 && bytes + size > commitsPageBytesTarget) break;
    commits.push(applied);
    bytes += size;
  }
  return { commits, more: ascending.length > commits.length };
}

function staleError(state: RoomState, reason: string): StaleEpochError {
  const mls = state.mls;
  return new StaleEpochError(
    `${reason}; fetch the commits from your epoch, process them and retry`,
    mls?.epoch ?? 0,
    mls?.sinceIndex ?? state.appliedIndex,
  );
}

/** A refusal code from the checks: an MLS or room code of the table, else `mls_rule_violation`. */
function refusalError(code: string, reason: string): ParleyError {
  if (code.startsWith("mls_") && isErrorCode(code)) return new ParleyError(code, reason);
  if (code === "room_unknown") return new ParleyError("not_found", "no such room");
  return new ParleyError("mls_rule_violation", reason);
}
