import type { ControlCertificate, RoomId, ServerName, UserId } from "@parley/protocol";
import type { MessageVerdict as RoomMessageVerdict } from "@parley/room";
import type { RaftGroup } from "../consensus/raft-group.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { ControlRecordAt, ControlSnapshot } from "../frames/frame.ts";
import type { ControlView, RoomMessageLane } from "../message-lane/message-lane.ts";
import type { RecheckOutcome } from "../message-lane/stamped-message.ts";
import type { LinkStateTable } from "../routing/link-state.ts";
import { type SpanningTree, spanningTree } from "../routing/spanning-tree.ts";

/** A leaf's link to the sponsor feeding it. */
export interface Attachment {
  sponsor: ServerName | null;
  /** The sponsor answered our attach with a control frame. */
  acknowledged: boolean;
  /** When we last sent an attach (re-sent until acknowledged, and to catch up). */
  attachSentTick: number;
  /** Sponsors that refused us, until the tick we may try them again (so a refusing or stale one is skipped). */
  readonly refusedUntil: Map<ServerName, number>;
  /** Sponsors we moved away from while their link was down: told "detach" once it is up. */
  readonly owedDetaches: Set<ServerName>;
}

/** A local user's message a leaf has submitted to a sponsor and awaits an answer for. */
export interface PendingSubmission {
  readonly sender: UserId;
  readonly clientMessageId: string;
  readonly body: Uint8Array;
  /** When the local user sent it: the leaf gives up `submissionTimeoutTicks` later. */
  readonly firstTick: number;
  attempts: number;
  nextTick: number;
  /** The sponsor it was last sent to; a new sponsor gets it at once. */
  sentTo: ServerName | null;
}

/** Signatures a sponsor gathered for one control index above its newest certificate. */
export interface GatheredSignatures {
  readonly chainHash: Uint8Array;
  readonly signers: Map<ServerName, GatheredSignature>;
}

export interface GatheredSignature {
  readonly signature: Uint8Array;
  /** Checked against our own chain hash; a signature for an index we had not applied yet is not. */
  verified: boolean;
}

/** What a leaf holds from its sponsor but has not seen certified yet (applied only once it is). */
export interface UncertifiedFeed {
  snapshot: ControlSnapshot | null;
  records: ControlRecordAt[];
}

/** A sponsor-policy effect the room's sponsors remember until the sponsor set reflects it. */
export interface SponsorEffect {
  readonly type: "sponsor-wanted" | "sponsor-unneeded";
  readonly server: ServerName;
}

/**
 * Everything one server holds for one room: its replica of the control
 * state, its message lane, and the bookkeeping of its role — as a sponsor
 * (a Raft group, attached leaves, pending sponsor effects) or as a leaf (its
 * attachment and submissions in flight). The session is the lane's view of
 * the control state, so replacing the replica (a snapshot) needs no rewiring.
 */
export class RoomSession implements ControlView {
  readonly room: RoomId;
  replica: RoomReplica;
  #lane: RoomMessageLane | undefined;
  contacts: readonly ServerName[];
  readonly #groups: { group(room: RoomId): RaftGroup | undefined };
  /** Sponsor side: leaves attached here, with the tick of their last attach (soft state, see HostTiming). */
  readonly attachedLeaves = new Map<ServerName, number>();
  /** Sponsor side: records applied in this round, to feed attached leaves. */
  newRecords: ControlRecordAt[] = [];
  /** Sponsor side: the group's configuration changed in this round. */
  configurationChanged = false;
  readonly sponsorEffects: SponsorEffect[] = [];
  /** The highest incarnation this server retired in the room (never run again). */
  retiredIncarnation = 0;
  /** Since when this server's node of the room has known no leader (null: it knows one). */
  leaderlessSinceTick: number | null = null;
  /** Questions asked so far, to rotate over the sponsors asked. */
  removalQueries = 0;
  /** The tick this node last asked a sponsor whether it was removed (sponsor-retirement.ts). */
  removalCheckTick = Number.NEGATIVE_INFINITY;
  /** The tick the last sponsor-effect proposal went out. */
  sponsorEffectTick = Number.NEGATIVE_INFINITY;
  /** Leaf side. */
  readonly attachment: Attachment = {
    sponsor: null,
    acknowledged: false,
    attachSentTick: -1,
    refusedUntil: new Map(),
    owedDetaches: new Set(),
  };
  readonly pendingSubmissions = new Map<number, PendingSubmission>();
  /**
   * Leaf side: until this tick the leaf stays attached even when no local
   * user takes part in the room (it was told of an invite, or a local user
   * asked to follow it, and must catch up before its state can say so).
   */
  awakeUntilTick = Number.NEGATIVE_INFINITY;
  /** Both roles: the newest certificate this server verified or formed (§12.6.1), kept in storage. */
  certificate: ControlCertificate | null = null;
  /** Sponsor side: signatures gathered per index above `certificate` (certification.ts). */
  readonly gatheredSignatures = new Map<number, GatheredSignatures>();
  /** Sponsor side: the highest index this server signed. */
  signedIndex = 0;
  /** Sponsor side: when this server last sent its signature (re-sent until certified). */
  signatureSentTick = Number.NEGATIVE_INFINITY;
  /** Sponsor side: per peer, when we last answered its signature with our certificate. */
  readonly certificateAnsweredTick = new Map<ServerName, number>();
  /** Sponsor side: the sponsor set from each index on where it changed, oldest first (bounded). */
  sponsorChanges: Array<{ readonly index: number; readonly sponsors: readonly ServerName[] }> = [];
  /** Leaf side: records (and a snapshot) received but not yet covered by a verified certificate. */
  uncertified: UncertifiedFeed = { snapshot: null, records: [] };
  /** Control proposals of local users: request id → tick by which the outcome is due. */
  readonly pendingProposals = new Map<number, number>();
  #treeKey = "";
  #tree: SpanningTree = new Map();

  constructor(
    room: RoomId,
    contacts: readonly ServerName[],
    groups: { group(room: RoomId): RaftGroup | undefined },
  ) {
    this.room = room;
    this.#groups = groups;
    this.replica = RoomReplica.empty(room);
    this.contacts = contacts;
  }

  get lane(): RoomMessageLane {
    if (this.#lane === undefined) throw new Error("the session's lane is set right after creation");
    return this.#lane;
  }

  set lane(lane: RoomMessageLane) {
    this.#lane = lane;
  }

  /** This server's Raft node of the room, while it sponsors it. */
  get group(): RaftGroup | undefined {
    return this.#groups.group(this.room);
  }

  /** Whether this server runs a Raft node of the room. */
  get isSponsor(): boolean {
    return this.#groups.group(this.room) !== undefined;
  }

  // ControlView

  get appliedIndex(): number {
    return this.replica.appliedIndex;
  }

  authorizeNow(sender: UserId): RoomMessageVerdict | null {
    return this.replica.authorizeNow(sender);
  }

  recheck(index: number, origin: ServerName, sender: UserId): RecheckOutcome {
    return this.replica.recheck(index, origin, sender);
  }

  /** The room's spanning tree as this server sees it now (cached until sponsors or links change). */
  tree(links: LinkStateTable): SpanningTree {
    const sponsors = this.replica.sponsors;
    const key = `${links.version} ${sponsors.join(",")}`;
    if (key !== this.#treeKey) {
      this.#tree = spanningTree(this.room, sponsors, (a, b) => links.isLive(a, b));
      this.#treeKey = key;
    }
    return this.#tree;
  }

  /**
   * Whether this server routes as part of the room's tree: its state names
   * it a sponsor, under an incarnation it has not retired. (A retired node's
   * server may still be named by a state that lags behind its removal; it is
   * a leaf until its state catches up.)
   */
  routesInTree(self: ServerName): boolean {
    const incarnation = this.replica.incarnationOf(self);
    return incarnation !== undefined && incarnation > this.retiredIncarnation;
  }

  /**
   * The servers this one exchanges marks with: tree neighbours and attached
   * leaves when it routes in the tree, its sponsor (once it has answered) when it is a leaf.
   */
  exchangePartners(self: ServerName, links: LinkStateTable): ServerName[] {
    if (this.routesInTree(self)) {
      return [...(this.tree(links).get(self) ?? []), ...this.attachedLeaves.keys()];
    }
    const { sponsor, acknowledged } = this.attachment;
    return sponsor === null || !acknowledged ? [] : [sponsor];
  }
}
