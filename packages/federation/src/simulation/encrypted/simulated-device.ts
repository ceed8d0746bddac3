import {
  commitAccepted,
  commitLost,
  epochOf,
  generateKeyPackage,
  isActive,
  joinFromWelcome,
  type KeyPackageBundle,
  type MlsCrypto,
  type MlsMember,
  type PendingCommit,
  type PendingExternalJoin,
  processMessage,
} from "@parley/mls";
import {
  type DeviceId,
  deviceIdFromPublicKey,
  equalBytes,
  keyPairFromSeed,
  nobleSignatureProvider,
  type RoomId,
  sha256,
  type UserId,
} from "@parley/protocol";
import type { ControlEntry, RoomAction } from "@parley/room";
import type { AppliedEntry } from "../observer.ts";

/** A commit a device wants made: the room action it claims and the MLS change. */
export interface CommitWish {
  readonly action: RoomAction;
  /** Devices to add (each with a fresh KeyPackage), and devices to remove. */
  readonly add?: readonly SimulatedDevice[];
  readonly remove?: readonly DeviceId[];
  /** How many times it was made; a wish is dropped after `commitAttemptsMax`. */
  readonly attempts: number;
}

export const commitAttemptsMax = 4;

/** A commit this device made and submitted, waiting to learn whether it was ordered first. */
export interface Submitted {
  readonly pending: PendingCommit;
  readonly wish: CommitWish;
  readonly submittedAtMs: number;
}

/**
 * One device of a user in the encrypted-room simulation: its MLS member
 * (null before it joined and after it was removed), its KeyPackage, and how
 * far it has processed its own server's control log. It does what the SDK
 * does: processes applied commits in log order, settles its own commits as
 * accepted or lost (a lost intent is made again in the new epoch), and joins
 * from the Welcome an applied invite carries.
 */
export class SimulatedDevice {
  readonly device: DeviceId;
  readonly identity: {
    readonly user: UserId;
    readonly keyPair: ReturnType<typeof keyPairFromSeed>;
  };
  member: MlsMember | null = null;
  keyPackage: KeyPackageBundle | null = null;
  /** Control index up to which this device has processed its server's log. */
  processedIndex = 0;
  /** The epoch the device joined at, and the epoch its removal started (null: still in). */
  joinedEpoch: number | null = null;
  removedEpoch: number | null = null;
  /** The member state just before the removal, kept to show it cannot read later messages. */
  removedMember: MlsMember | null = null;
  readonly submitted: Submitted[] = [];
  /**
   * An external commit under way (rejoin.ts): a rejoin of a joined user's
   * device (`mls-commit`) or a user coming back into an open room (`join`);
   * its commit, if made, and attempts so far.
   */
  rejoin: {
    readonly action: "mls-commit" | "join";
    readonly pending: PendingExternalJoin | null;
    readonly attempts: number;
    readonly submittedAtMs: number;
  } | null = null;
  /** Commits to make at the next turn: new wishes, lost races and timed-out submissions. */
  readonly wishes: CommitWish[] = [];
  commitsLost = 0;
  /** Times it joined again after a removal: from a Welcome (invited again), or by an external `join`. */
  rejoinedByInvite = 0;
  rejoinedOpen = 0;
  /** Its first join was its own external commit (a device its user added later). */
  joinedLater = false;
  /** Its user revoked it: it does nothing more, and one of the user's other devices removes it. */
  revoked = false;
  /** Messages it has settled (decrypted, its own, or not meant for it), by stamp. */
  readonly settled = new Set<string>();
  /** Sends (sender and client id) it has decrypted, under whichever stamp. */
  readonly decryptedSends = new Set<string>();

  constructor(
    readonly user: UserId,
    readonly seedLabel: string,
    /** 0 for the user's first device. */
    readonly number = 0,
  ) {
    const label = number === 0 ? user : `${user} device ${number}`;
    const keyPair = keyPairFromSeed(
      nobleSignatureProvider,
      sha256(new TextEncoder().encode(`encrypted simulation ${seedLabel} ${label}`)),
    );
    this.identity = { user, keyPair };
    this.device = deviceIdFromPublicKey(keyPair.publicKey);
  }

  get epoch(): number | null {
    return this.member === null ? null : Number(epochOf(this.member));
  }

  async freshKeyPackage(crypto: MlsCrypto, nowMs: number): Promise<Uint8Array> {
    this.keyPackage = await generateKeyPackage(crypto, this.identity, { nowMs });
    return this.keyPackage.keyPackage;
  }

  /**
   * Processes one applied MLS entry of the log. Returns a violation text when
   * the device's MLS state disagrees with the order the sponsors chose.
   */
  async process(
    crypto: MlsCrypto,
    roomId: RoomId,
    applied: AppliedEntry,
    nowMs: number,
  ): Promise<string | null> {
    const { action, actor } = applied.entry;
    if (applied.accepted && action.type === "leave" && actor.type === "user") {
      if (actor.user === this.user) this.#left();
      return null;
    }
    const mls = applied.entry.mls;
    if (mls === undefined || mls.commit === null) return null;
    if (!applied.accepted) {
      // Refused by the room (stale, or the action no longer allowed): a stale
      // one is retried when the winner is processed; a refused action is dropped.
      const index = this.submitted.findIndex((each) =>
        equalBytes(each.pending.commit, mls.commit ?? new Uint8Array()),
      );
      if (index >= 0) this.submitted.splice(index, 1);
      return null;
    }
    const member = this.member;
    if (member === null) {
      return mls.welcome === null ? null : this.#tryWelcome(crypto, roomId, mls);
    }
    const epoch = Number(epochOf(member));
    if (mls.epoch !== epoch) {
      return `${this.user} at epoch ${epoch} meets the commit of epoch ${mls.epoch} at index ${applied.index}`;
    }
    const winner = mls.commit;
    const mine = this.submitted.find((each) => equalBytes(each.pending.commit, winner));
    const sameEpoch = this.submitted.filter((each) => Number(each.pending.baseEpoch) === epoch);
    this.submitted.splice(0, this.submitted.length);
    if (mine !== undefined) {
      this.member = commitAccepted(member, mine.pending);
      // Other submissions of the same intent (made again after a time-out) are now moot.
      return null;
    }
    if (sameEpoch.length > 0) {
      const first = sameEpoch[0];
      if (first === undefined) return null;
      const lost = await commitLost(member, first.pending, winner, { nowMs });
      if (lost.kind === "failed")
        return `${this.user} could not process the winner: ${lost.detail}`;
      this.commitsLost += 1;
      if (lost.kind === "retry") {
        this.wishes.push({ ...first.wish, attempts: first.wish.attempts });
      }
      return this.#settle(lost.member, lost.kind === "removed", member);
    }
    const outcome = await processMessage(member, winner);
    if (outcome.kind === "commit") return this.#settle(outcome.member, false, member);
    if (outcome.kind === "removed") return this.#settle(outcome.member, true, member);
    return `${this.user} could not process the commit at index ${applied.index}: ${outcome.kind === "failed" ? outcome.detail : outcome.kind}`;
  }

  #settle(member: MlsMember, removed: boolean, before: MlsMember): null {
    if (removed || !isActive(member)) {
      this.removedMember = before;
      // The removal commit was made in the epoch `before` is at and starts the next one.
      this.removedEpoch = Number(epochOf(before)) + 1;
      this.member = null;
      this.submitted.splice(0, this.submitted.length);
      this.wishes.splice(0, this.wishes.length);
      return null;
    }
    this.member = member;
    return null;
  }

  /**
   * Its user left: the device forgets the group, as the SDK does. It cannot
   * remove itself (§13.6); the next commit any member makes must remove it,
   * so that commit, made in this epoch, starts the first epoch it must not read.
   */
  #left(): void {
    const member = this.member;
    if (member === null) return;
    this.#settle(member, true, member);
  }

  async #tryWelcome(
    crypto: MlsCrypto,
    roomId: RoomId,
    mls: NonNullable<ControlEntry["mls"]>,
  ): Promise<string | null> {
    const bundle = this.keyPackage;
    if (bundle === null || mls.welcome === null) return null;
    if (!mls.added.some((added) => added.device === this.device)) return null;
    const joined = await joinFromWelcome(crypto, {
      roomId,
      welcome: mls.welcome,
      ratchetTree: mls.ratchetTree,
      keyPackages: [bundle],
    });
    if (joined.kind === "failed")
      return `${this.user} could not join from its Welcome: ${joined.detail}`;
    this.member = joined.member;
    this.keyPackage = null;
    if (this.removedEpoch !== null) this.rejoinedByInvite += 1;
    this.joinedEpoch = Number(epochOf(joined.member));
    // A device invited again keeps the record of its earlier removal: its
    // old state must still read nothing from that removal on.
    return null;
  }
}
