// Keeping a room's MLS member in step with the commits the sponsors ordered
// (docs/protocol.md §10.13, §13.7, §13.9): applying commits in order, each
// once; catching up on the ones missed; submitting this device's commits and,
// when another commit of the same epoch won (`mls_stale_epoch`), processing
// the winner and submitting again what is left to do; and rejoining by
// external commit when an ordered commit cannot be processed. Callers hold
// the room's lock (RoomGroups.withRoom).

import {
  type CommitIntent,
  commitAccepted,
  epochOf,
  isActive,
  type MlsMember,
  mlsFailureToParleyError,
  prepareCommit,
  prepareRejoin,
  processMessage,
  rejoinAccepted,
} from "@parley/mls";
import { decodeBase64url, encodeBase64url, ParleyError, type RoomId } from "@parley/protocol";
import type { ClientEvent } from "../events/client-events.ts";
import { checkCommitCertified } from "./commit-certificates.ts";
import type { MlsContext } from "./mls-context.ts";
import type { CommitAction, MlsRequests } from "./mls-requests.ts";
import type { RoomGroups } from "./room-groups.ts";

/** Commits submitted for one intent before giving up (each loss means another commit won). */
const commitAttemptsMax = 8;
/** Rejoins tried in a row (each loss means the epoch moved on while rejoining). */
const rejoinAttemptsMax = 4;

/** `refused`: no valid certificate covers the commit; it was reported (`commit-refused`) and not processed. */
export type ApplyResult = "applied" | "already" | "gap" | "removed" | "rejoined" | "refused";

export interface GroupSyncDependencies {
  readonly context: MlsContext;
  readonly groups: RoomGroups;
  readonly requests: MlsRequests;
  readonly newClientId: () => string;
  readonly emit: (event: ClientEvent) => void;
}

export class GroupSync {
  readonly #dependencies: GroupSyncDependencies;

  constructor(dependencies: GroupSyncDependencies) {
    this.#dependencies = dependencies;
  }

  /**
   * Applies one ordered commit made in `epoch`. Commits of earlier epochs
   * were applied already (or predate this device); one of a later epoch
   * means some are missing (`gap`: catch up first). A commit is processed
   * only once a valid certificate covers its control index; one that cannot
   * be processed makes the device rejoin.
   */
  async apply(
    roomId: RoomId,
    epoch: number,
    controlIndex: number,
    commit: Uint8Array,
  ): Promise<ApplyResult> {
    const { groups, requests, context, emit } = this.#dependencies;
    const member = await groups.member(roomId);
    if (member === undefined || !isActive(member)) return "already";
    const current = Number(epochOf(member));
    if (epoch < current) return "already";
    if (epoch > current) return "gap";
    try {
      const certificate = (room: RoomId, from: number) => requests.certificate(room, from);
      const checking = {
        certificate,
        provider: context.signatureProvider,
        ...(context.options.certificateWaitMs === undefined
          ? {}
          : { waitMsMax: context.options.certificateWaitMs }),
      };
      await checkCommitCertified(checking, roomId, controlIndex, commit);
    } catch (error) {
      if (!(error instanceof ParleyError) || error.code !== "certificate_invalid") throw error;
      emit({ type: "commit-refused", roomId, epoch, controlIndex, error });
      return "refused";
    }
    const outcome = await processMessage(member, commit);
    switch (outcome.kind) {
      case "commit":
        groups.update(roomId, outcome.member);
        return "applied";
      case "removed":
        groups.update(roomId, outcome.member);
        return "removed";
      case "failed":
        this.#dependencies.emit({
          type: "error",
          error: new ParleyError(
            outcome.code,
            `room ${roomId}: the commit of epoch ${epoch} could not be processed (${outcome.detail}); rejoining`,
          ),
        });
        await this.rejoin(roomId, member);
        return "rejoined";
      default:
        throw new ParleyError(
          "mls_rule_violation",
          `room ${roomId}: a commit event held no commit`,
        );
    }
  }

  /** Applies every ordered commit this device's member has not processed yet. */
  async catchUp(roomId: RoomId): Promise<void> {
    const member = await this.#dependencies.groups.member(roomId);
    if (member === undefined || !isActive(member)) return;
    const commits = await this.#dependencies.requests.commitsFrom(roomId, Number(epochOf(member)));
    for (const applied of commits) {
      const commit = decodeBase64url(applied.commit);
      const result = await this.apply(roomId, applied.epoch, applied.controlIndex, commit);
      if (result !== "applied" && result !== "already") return;
    }
  }

  /**
   * Makes a commit for what `intentOf` says is still to do, submits it with
   * `action`, and adopts it once ordered. After a lost race it catches up and
   * asks `intentOf` again; undefined means nothing is left to do.
   */
  async commit(
    roomId: RoomId,
    action: CommitAction,
    intentOf: (member: MlsMember) => Promise<CommitIntent | undefined>,
  ): Promise<{ logIndex: number; epoch: number } | undefined> {
    const { groups, requests, context } = this.#dependencies;
    for (let attempt = 0; attempt < commitAttemptsMax; attempt += 1) {
      const member = await groups.member(roomId);
      if (member === undefined || !isActive(member)) {
        throw new ParleyError("mls_not_member", `this device is not in room ${roomId}'s group`);
      }
      const intent = await intentOf(member);
      if (intent === undefined) return undefined;
      const prepared = await prepareCommit(member, intent, { nowMs: context.nowMs() });
      if (prepared.kind === "failed") throw mlsFailureToParleyError(prepared);
      const { pending } = prepared;
      try {
        const answer = await requests.submitCommit(roomId, {
          clientId: this.#dependencies.newClientId(),
          action,
          epoch: Number(pending.baseEpoch),
          commit: encodeBase64url(pending.commit),
          groupInfo: encodeBase64url(pending.groupInfo),
          ratchetTree: encodeBase64url(pending.ratchetTree),
          ...(pending.welcome === undefined ? {} : { welcome: encodeBase64url(pending.welcome) }),
        });
        await groups.save(roomId, commitAccepted(member, pending));
        return answer;
      } catch (error) {
        if (!(error instanceof ParleyError) || error.code !== "mls_stale_epoch") throw error;
        await this.catchUp(roomId);
      }
    }
    throw new ParleyError(
      "conflict",
      `room ${roomId}: other commits won ${commitAttemptsMax} times in a row; try again`,
    );
  }

  /**
   * Recovery (§13.9): an external commit from the sponsors' GroupInfo that
   * replaces this device's leaf. Messages of the epochs in between stay
   * unreadable to this device.
   */
  async rejoin(roomId: RoomId, member: MlsMember): Promise<void> {
    const { groups, requests, context } = this.#dependencies;
    for (let attempt = 0; attempt < rejoinAttemptsMax; attempt += 1) {
      const material = await requests.groupInfo(roomId);
      const prepared = await prepareRejoin(member, context.identity, {
        groupInfo: decodeBase64url(material.groupInfo),
        ratchetTree: decodeBase64url(material.ratchetTree),
        nowMs: context.nowMs(),
      });
      if (prepared.kind === "failed") throw mlsFailureToParleyError(prepared);
      const { pending } = prepared;
      try {
        await requests.submitCommit(roomId, {
          clientId: this.#dependencies.newClientId(),
          action: { type: "mls-commit" },
          epoch: material.epoch,
          commit: encodeBase64url(pending.commit),
          groupInfo: encodeBase64url(pending.groupInfo),
          ratchetTree: encodeBase64url(pending.ratchetTree),
        });
        await groups.save(roomId, rejoinAccepted(member, pending));
        return;
      } catch (error) {
        if (!(error instanceof ParleyError) || error.code !== "mls_stale_epoch") throw error;
      }
    }
    throw new ParleyError("conflict", `room ${roomId}: rejoining lost ${rejoinAttemptsMax} times`);
  }
}
