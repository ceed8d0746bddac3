import type { CertificateKeys } from "@parley/protocol";
import {
  isParleyError,
  ParleyError,
  type RoomId,
  type ServerName,
  toParleyError,
  type UserId,
} from "@parley/protocol";
import { EMPTY_CONF_STATE, type RandomSource } from "@parley/raft";
import type { ControlEntry } from "@parley/room";
import { MultiRaftHost } from "../consensus/multi-raft-host.ts";
import type { GroupRaftSettings } from "../consensus/raft-group.ts";
import { encodeControlRecord } from "../control-lane/control-record.ts";
import { encodeControlSnapshot, RoomReplica } from "../control-lane/room-replica.ts";
import type { Frame, RefusalCode, SubmissionOutcome } from "../frames/frame.ts";
import { decodeFrame } from "../frames/frame-codec.ts";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import type { Clock } from "../message-lane/message-lane.ts";
import { LinkStateTable } from "../routing/link-state.ts";
import { applyObserved } from "./applied-event.ts";
import { certificationDuties, signApplied } from "./certification.ts";
import { type FederationEffects, Outbox } from "./effects.ts";
import type { FederationStorage } from "./federation-storage.ts";
import { dispatchFrame } from "./frame-dispatch.ts";
import { defaultHostTiming, type HostContext, type HostTiming } from "./host-context.ts";
import { leafDuties, wakeLeaf } from "./leaf-role.ts";
import {
  advertiseOwnLinks,
  refreshOwnAdvertisement,
  sendLinkStateTable,
} from "./link-state-duties.ts";
import { proposeLocal, sendLocal } from "./local-requests.ts";
import type { RoomSession } from "./room-session.ts";
import { groupWanted, openSession, receiveInvite, restoreSession } from "./room-sessions.ts";
import { checkOwnRemoval, retireSponsorNode } from "./sponsor-retirement.ts";
import {
  expireAttachments,
  feedLeaves,
  leaderDuties,
  proposeEntry,
  sponsorApplier,
} from "./sponsor-role.ts";

export interface FederationHostOptions {
  readonly self: ServerName;
  readonly clock: Clock;
  /** Randomness for Raft's election timeouts only. */
  readonly random: RandomSource;
  readonly storage: FederationStorage;
  readonly raft?: GroupRaftSettings;
  readonly timing?: Partial<HostTiming>;
  /**
   * This server's key and its peers' keys, for control certificates
   * (§12.6.1). Without them the host neither signs nor asks leaves' feeds
   * for certificates (a deployment that has not wired keys yet).
   */
  readonly keys?: CertificateKeys;
}

/** Rounds of Raft processing per input; appliers queue follow-ups, so two or three are normal. */
const processRoundsMax = 16;

/**
 * The pure federation core of one homeserver: every room it sponsors or
 * follows, its Raft groups, its link-state table and its message lanes.
 *
 * Inputs: `tick()` at a fixed interval; `linkUp` / `linkDown` from the
 * transport; `receive` with each frame's bytes; and the homeserver's own
 * requests (`createRoom`, `followRoom`, `proposeControl`, `sendMessage`).
 * Each returns the effects it produced (FederationEffects): make the storage
 * writes durable if `mustSync`, then send the frames, then hand the events on.
 * Nothing here reads a clock, draws randomness or does IO except through the
 * injected clock, random source and storage; the same object runs under the
 * simulator and over real links.
 *
 * A restart is a new FederationHost over the same storage: it picks up every
 * room the storage lists, as sponsor or leaf.
 */
export class FederationHost {
  readonly self: ServerName;
  readonly #outbox = new Outbox();
  readonly #raft: MultiRaftHost;
  readonly #links: LinkStateTable;
  readonly #liveLinks = new Set<ServerName>();
  readonly #sessions = new Map<RoomId, RoomSession>();
  readonly #storage: FederationStorage;
  readonly #clock: Clock;
  readonly #timing: HostTiming;
  readonly #context: HostContext;
  #tick = 0;

  constructor(options: FederationHostOptions) {
    this.self = options.self;
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#timing = { ...defaultHostTiming, ...options.timing };
    this.#links = new LinkStateTable(options.self, options.clock.nowMs());
    this.#raft = new MultiRaftHost({
      self: options.self,
      storage: options.storage.groups,
      random: options.random,
      ...(options.raft === undefined ? {} : { raft: options.raft }),
      groupWanted: (room, to) => groupWanted(this.#context, this.#sessions, room, to),
    });
    const host = this;
    this.#context = {
      self: this.self,
      outbox: this.#outbox,
      raft: this.#raft,
      links: this.#links,
      liveLinks: this.#liveLinks,
      storage: this.#storage,
      clock: this.#clock,
      timing: this.#timing,
      keys: options.keys ?? null,
      get tick() {
        return host.#tick;
      },
    };
    for (const room of this.#storage.rooms()) restoreSession(this.#context, this.#sessions, room);
    this.#outbox.drain();
  }

  // -------------------------------------------------------------------------
  // Inputs
  // -------------------------------------------------------------------------

  tick(): FederationEffects {
    this.#tick += 1;
    this.#raft.tick();
    for (const session of this.#sessions.values()) this.#upkeep(session);
    refreshOwnAdvertisement(this.#context);
    return this.#finish();
  }

  linkUp(peer: ServerName): FederationEffects {
    if (peer === this.self || this.#liveLinks.has(peer)) return this.#finish();
    this.#liveLinks.add(peer);
    this.#raft.setPeerAlive(peer, true);
    advertiseOwnLinks(this.#context);
    sendLinkStateTable(this.#context, peer);
    return this.#finish();
  }

  linkDown(peer: ServerName): FederationEffects {
    if (!this.#liveLinks.delete(peer)) return this.#finish();
    this.#raft.setPeerAlive(peer, false);
    advertiseOwnLinks(this.#context);
    for (const session of this.#sessions.values()) {
      session.attachedLeaves.delete(peer);
      session.lane.forgetPeer(peer);
      // The sponsor may forget us while the link is down (a restart): attach again once it is back.
      if (session.attachment.sponsor === peer) {
        session.attachment.acknowledged = false;
        session.attachment.attachSentTick = Number.NEGATIVE_INFINITY;
      }
    }
    return this.#finish();
  }

  /** Bytes of one frame from `peer` (authenticated by the link). */
  receive(peer: ServerName, bytes: Uint8Array): FederationEffects {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (thrown) {
      this.#outbox.emit({ type: "peer-error", peer, error: toParleyError(thrown) });
      return this.#finish();
    }
    return this.receiveFrame(peer, frame);
  }

  /** A decoded, validated frame from `peer` (for callers that decoded already). */
  receiveFrame(peer: ServerName, frame: Frame): FederationEffects {
    if (frame.type === "invite") {
      receiveInvite(this.#context, this.#sessions, peer, frame);
      return this.#finish();
    }
    try {
      dispatchFrame(this.#context, this.#sessions, peer, frame);
    } catch (thrown) {
      if (!isParleyError(thrown) || thrown.category === "internal") throw thrown;
      this.#outbox.emit({ type: "peer-error", peer, error: thrown });
    }
    return this.#finish();
  }

  /** Creates a room whose first sponsor is this server (`entry` is its create entry). */
  createRoom(entry: ControlEntry, requestId: number): FederationEffects {
    const action = entry.action;
    if (action.type !== "create") throw new ParleyError("invalid_argument", "not a create entry");
    const room = action.roomId;
    if (this.#sessions.has(room)) throw new ParleyError("conflict", "the room exists here");
    const replica = RoomReplica.empty(room);
    const record = { entry, proposer: this.self, proposalId: requestId };
    const decision = replica.check(record);
    if (decision.verdict === "reject") {
      throw new ParleyError("invalid_argument", `create refused: ${decision.reason}`);
    }
    // The create record is reported like any applied record, so the
    // homeserver projects every room the same way from index 1.
    applyObserved(replica, encodeControlRecord(record), (event) => this.#outbox.emit(event));
    const node = sponsorNodeId(this.self, replica.appliedIndex);
    const session = openSession(this.#context, this.#sessions, room, []);
    this.#storage.saveRoom(room, { contacts: [], node, retiredIncarnation: 0 });
    const confState = { ...EMPTY_CONF_STATE, voters: [node] };
    const data = encodeControlSnapshot(replica.snapshot());
    const bootstrap = { metadata: { index: 1, term: 1, confState }, data };
    this.#raft.startGroup(room, node, sponsorApplier(this.#context, session), bootstrap);
    this.#raft.campaign(room);
    this.#outbox.needSync();
    return this.#finish();
  }

  /** Follows a room as a leaf (a local user was invited), starting from `contacts`. */
  followRoom(room: RoomId, contacts: readonly ServerName[]): FederationEffects {
    const session =
      this.#sessions.get(room) ?? openSession(this.#context, this.#sessions, room, contacts);
    session.contacts = contacts;
    wakeLeaf(this.#context, session);
    if (this.#storage.loadRoom(room) === undefined) {
      this.#storage.saveRoom(room, { contacts, node: null, retiredIncarnation: 0 });
      this.#outbox.needSync();
    }
    leafDuties(this.#context, session);
    return this.#finish();
  }

  /**
   * A local user's control action (invite, join, ban, …). `requestId` is the
   * caller's, unique among this server's requests and at least 1; the
   * outcome arrives as `submission-result` events: proposed or refused, then
   * committed (with the state machine's verdict) or timed out.
   */
  proposeControl(room: RoomId, entry: ControlEntry, requestId: number): FederationEffects {
    if (requestId < 1) throw new ParleyError("invalid_argument", "request ids start at 1");
    proposeLocal(this.#context, this.#sessions.get(room), room, entry, requestId);
    return this.#finish();
  }

  /**
   * The homeserver's answer to `commit-check-needed`: propose the leaf's
   * entry (`entry` as checked) or refuse it, and tell the leaf.
   */
  resolveCommitCheck(
    room: RoomId,
    proposer: ServerName,
    requestId: number,
    verdict:
      | { readonly kind: "valid"; readonly entry: ControlEntry }
      | { readonly kind: "refused"; readonly code: RefusalCode; readonly reason: string },
  ): FederationEffects {
    const session = this.#sessions.get(room);
    const outcome: SubmissionOutcome =
      session === undefined || !session.isSponsor
        ? {
            kind: "refused",
            code: "not_sponsor_here",
            reason: "this server no longer sponsors the room",
          }
        : verdict.kind === "refused"
          ? { kind: "refused", code: verdict.code, reason: verdict.reason.slice(0, 500) }
          : proposeEntry(this.#context, session, verdict.entry, proposer, requestId);
    this.#outbox.send(proposer, { type: "submit-result", room, requestId, outcome });
    return this.#finish();
  }

  /**
   * A local user's message (its device signature already checked). On a
   * sponsor it is accepted or refused at once; on a leaf it is submitted to
   * the attached sponsor and retried until answered. The outcome arrives as
   * a `submission-result` event.
   */
  sendMessage(
    room: RoomId,
    sender: UserId,
    clientMessageId: string,
    body: Uint8Array,
    requestId: number,
  ): FederationEffects {
    const message = { sender, clientMessageId, body };
    sendLocal(this.#context, this.#sessions.get(room), room, message, requestId);
    return this.#finish();
  }

  // -------------------------------------------------------------------------
  // Views (for the homeserver, tests and operators)
  // -------------------------------------------------------------------------

  session(room: RoomId): RoomSession | undefined {
    return this.#sessions.get(room);
  }

  rooms(): RoomId[] {
    return [...this.#sessions.keys()];
  }

  get linkState(): LinkStateTable {
    return this.#links;
  }

  get raft(): MultiRaftHost {
    return this.#raft;
  }

  get currentTick(): number {
    return this.#tick;
  }

  // -------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------

  #upkeep(session: RoomSession): void {
    checkOwnRemoval(this.#context, session);
    if (session.isSponsor) {
      leaderDuties(this.#context, session);
      expireAttachments(this.#context, session);
      certificationDuties(this.#context, session);
    } else {
      leafDuties(this.#context, session);
    }
    const partners = session
      .exchangePartners(this.self, this.#links)
      .filter((peer) => this.#liveLinks.has(peer));
    session.lane.antiEntropy(partners, this.#tick);
    for (const [requestId, deadline] of session.pendingProposals) {
      if (deadline > this.#tick) continue;
      session.pendingProposals.delete(requestId);
      const outcome = { kind: "timed-out" } as const;
      this.#outbox.emit({ type: "submission-result", room: session.room, requestId, outcome });
    }
  }

  /** Runs Raft rounds until quiet, then the follow-ups of what was applied, and drains the outbox. */
  #finish(): FederationEffects {
    for (let round = 0; round < processRoundsMax; round += 1) {
      const result = this.#raft.process();
      if (result.mustSync) this.#outbox.needSync();
      for (const { to, frame } of result.frames) this.#outbox.send(to, frame);
      for (const session of this.#sessions.values()) this.#afterRound(session);
      if (!this.#raft.hasWork) break;
    }
    return this.#outbox.drain();
  }

  #afterRound(session: RoomSession): void {
    signApplied(this.#context, session);
    feedLeaves(this.#context, session);
    if (!session.configurationChanged) return;
    session.configurationChanged = false;
    this.#raft.configurationChanged(session.room);
    const group = session.group;
    const confState = group?.confState;
    if (group === undefined || confState === undefined || confState.voters.length === 0) return;
    if (group.isMember) return;
    // This server was removed from the room's sponsors: it follows the room as a leaf from now on.
    retireSponsorNode(this.#context, session);
  }
}
