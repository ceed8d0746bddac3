import {
  checkCommit,
  type GroupMember,
  loadSponsorGroup,
  type MlsCrypto,
  type SponsorGroup,
  sponsorEpoch,
  sponsorMembers,
} from "@parley/mls";
import { equalBytes, type RoomId, type UserId } from "@parley/protocol";
import {
  type CommitEffect,
  type ControlEntry,
  commitClaimViolation,
  type MlsDevice,
  type RoomState,
} from "@parley/room";
import type { RefusalCode } from "../frames/frame.ts";
import { sponsorGroupsCachedMax } from "../limits.ts";

export type CommitVerdict =
  | { readonly kind: "valid"; readonly entry: ControlEntry; readonly committer: MlsDevice }
  | { readonly kind: "refused"; readonly code: RefusalCode; readonly reason: string };

export type GroupVerdict =
  | { readonly kind: "valid" }
  | { readonly kind: "refused"; readonly code: RefusalCode; readonly reason: string };

interface CachedGroup {
  readonly epoch: number;
  readonly groupInfo: Uint8Array;
  readonly group: SponsorGroup;
}

/**
 * What a sponsor checks before it proposes an entry carrying an MLS commit
 * (docs/protocol.md §13.8): the commit against the group's public view at
 * the room's current epoch (packages/mls `checkCommit`: signature, rules,
 * KeyPackages, tree, next group context, GroupInfo and tree sent with it),
 * then what the commit does against the room action it claims
 * (`commitClaimViolation`: committer, no hidden adds or removes).
 *
 * The public view is not kept as state of its own: it is loaded from the
 * GroupInfo and ratchet tree the room state holds for the current epoch
 * (replicated, snapshotted and restored with the room state), and the view a
 * checked commit leads to is cached, so a sponsor loads a view only after a
 * restart or when another commit won. Pure: no IO and no clock (`nowMs` is
 * passed); asynchronous only because the MLS library is.
 */
export class CommitChecker {
  readonly #crypto: MlsCrypto;
  readonly #groups = new Map<RoomId, CachedGroup>();

  constructor(crypto: MlsCrypto) {
    this.#crypto = crypto;
  }

  /**
   * Checks `entry` against `state`. With `fillAdded`, the entry's `added`
   * list is taken from the commit (a local user's entry, which the server
   * builds); without it, the list must match the commit (a leaf's entry).
   */
  async check(
    state: RoomState,
    entry: ControlEntry,
    options: { readonly nowMs: number; readonly fillAdded: boolean },
  ): Promise<CommitVerdict> {
    const mls = entry.mls;
    const current = state.mls;
    if (mls === undefined || mls.commit === null || current === undefined) {
      return refused("invalid_entry", "no commit to check, or not an encrypted room");
    }
    if (mls.epoch !== current.epoch) {
      return refused(
        "mls_stale_epoch",
        `a commit made in epoch ${mls.epoch}; the room is at epoch ${current.epoch}`,
      );
    }
    const group = await this.#groupAt(state);
    if (group.kind === "refused") return group;
    const checked = await checkCommit(group.group, mls.commit, {
      nowMs: options.nowMs,
      groupInfo: mls.groupInfo,
      ratchetTree: mls.ratchetTree,
    });
    if (checked.kind === "failed") return refused(checked.code, checked.detail);
    const change = checked.change;
    const effect: CommitEffect = {
      committer: device(change.committer),
      externalJoin: change.externalJoin,
      added: change.added.map(device),
      removed: change.removed.map(device),
      devicesAfter: sponsorMembers(checked.next).map(device),
    };
    const claimed: ControlEntry = options.fillAdded
      ? { ...entry, mls: { ...mls, added: effect.added } }
      : entry;
    const violation = commitClaimViolation(state, claimed, effect);
    if (violation !== null) return refused("mls_rule_violation", violation);
    this.#remember(state.roomId, {
      epoch: mls.epoch + 1,
      groupInfo: mls.groupInfo,
      group: checked.next,
    });
    return { kind: "valid", entry: claimed, committer: effect.committer };
  }

  /**
   * The create entry's group: a GroupInfo and tree at epoch 0 of the room's
   * group whose only leaf is the creating device.
   */
  async checkCreated(
    roomId: RoomId,
    creator: { readonly user: UserId; readonly device: string },
    groupInfo: Uint8Array,
    ratchetTree: Uint8Array,
  ): Promise<GroupVerdict> {
    const loaded = await loadSponsorGroup(this.#crypto, { roomId, groupInfo, ratchetTree });
    if (loaded.kind === "failed") return refused(loaded.code, loaded.detail);
    if (sponsorEpoch(loaded.group) !== 0n) return refused("mls_rule_violation", "not epoch 0");
    if (loaded.group.groupInfo === undefined) {
      return refused("mls_rule_violation", "the GroupInfo has no external_pub");
    }
    const members = sponsorMembers(loaded.group);
    const only = members[0];
    if (members.length !== 1 || only?.user !== creator.user || only.device !== creator.device) {
      return refused("mls_rule_violation", "the new group's only leaf must be the creating device");
    }
    this.#remember(roomId, { epoch: 0, groupInfo, group: loaded.group });
    return { kind: "valid" };
  }

  async #groupAt(
    state: RoomState,
  ): Promise<{ readonly kind: "loaded"; readonly group: SponsorGroup } | CommitVerdictRefused> {
    const current = state.mls;
    if (current === undefined) return refused("invalid_entry", "not an encrypted room");
    const cached = this.#groups.get(state.roomId);
    if (
      cached !== undefined &&
      cached.epoch === current.epoch &&
      equalBytes(cached.groupInfo, current.groupInfo)
    ) {
      return { kind: "loaded", group: cached.group };
    }
    const loaded = await loadSponsorGroup(this.#crypto, {
      roomId: state.roomId,
      groupInfo: current.groupInfo,
      ratchetTree: current.ratchetTree,
    });
    if (loaded.kind === "failed") {
      // The room's own state does not load: nothing can be checked against it (§13.10).
      return refused(
        "mls_commit_unprocessable",
        `the room's group does not load: ${loaded.detail}`,
      );
    }
    this.#remember(state.roomId, {
      epoch: current.epoch,
      groupInfo: current.groupInfo,
      group: loaded.group,
    });
    return loaded;
  }

  #remember(room: RoomId, cached: CachedGroup): void {
    this.#groups.delete(room);
    this.#groups.set(room, cached);
    if (this.#groups.size > sponsorGroupsCachedMax) {
      const oldest = this.#groups.keys().next();
      if (oldest.done !== true) this.#groups.delete(oldest.value);
    }
  }
}

type CommitVerdictRefused = Extract<CommitVerdict, { kind: "refused" }>;

function refused(code: RefusalCode, reason: string): CommitVerdictRefused {
  return { kind: "refused", code, reason };
}

function device(member: GroupMember): MlsDevice {
  return { user: member.user as UserId, device: member.device };
}
