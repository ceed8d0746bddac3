import type { ServerName } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { OriginMark } from "../frames/frame.ts";
import { backfillPullsPerRoomMax } from "../limits.ts";

/**
 * The timing side of high-water-mark exchange and backfill for one room,
 * kept apart from what is stored so the rules are easy to read:
 *
 * - **Exchange.** A server sends its marks to each exchange partner (its tree
 *   neighbours and attached leaves, or a leaf's sponsor) at once when the
 *   partner is new (a link came up, the tree changed, a leaf attached), then
 *   every `intervalTicks` while the two are unsettled: while its own marks
 *   changed since it last sent them, or the partner's last marks differed
 *   from its own. Two settled servers in an idle room send nothing.
 * - **Pull.** When a partner's marks are ahead of ours for an origin, we pull
 *   the missing messages from that partner, but only after `graceTicks`: in
 *   steady state the messages are already on their way along the tree, and
 *   pulling them too would deliver them twice. A pull asks for a bounded
 *   batch after our contiguous mark, again at once after each response that
 *   advanced the mark, and stops when the target is reached, when the partner
 *   sends nothing new, or when the partner goes away.
 */
export interface AntiEntropyTiming {
  readonly intervalTicks: number;
  readonly graceTicks: number;
  /** A request unanswered this long is sent again. */
  readonly pullTimeoutTicks: number;
}

export const defaultAntiEntropyTiming: AntiEntropyTiming = {
  intervalTicks: 5,
  graceTicks: 3,
  pullTimeoutTicks: 10,
};

interface PartnerState {
  sentVersion: number;
  sentTick: number;
  theirs: ReadonlyMap<NodeId, number> | null;
}

export interface Pull {
  readonly peer: ServerName;
  readonly origin: NodeId;
  target: number;
  dueTick: number;
  sentTick: number | null;
}

export class AntiEntropy {
  readonly #timing: AntiEntropyTiming;
  readonly #partners = new Map<ServerName, PartnerState>();
  readonly #pulls = new Map<string, Pull>();

  constructor(timing: AntiEntropyTiming) {
    this.#timing = timing;
  }

  /** Forgets partners no longer in `partners` (and their pulls); returns those due a marks frame. */
  partnersDue(
    partners: readonly ServerName[],
    mine: readonly OriginMark[],
    version: number,
    nowTick: number,
  ): ServerName[] {
    const current = new Set(partners);
    for (const peer of this.#partners.keys()) {
      if (!current.has(peer)) this.forget(peer);
    }
    const due: ServerName[] = [];
    for (const peer of partners) {
      let state = this.#partners.get(peer);
      if (state === undefined) {
        state = { sentVersion: -1, sentTick: Number.NEGATIVE_INFINITY, theirs: null };
        this.#partners.set(peer, state);
      }
      const settled = state.theirs !== null && sameMarks(state.theirs, mine);
      const changed = state.sentVersion !== version;
      const waited = nowTick - state.sentTick >= this.#timing.intervalTicks;
      if ((changed || !settled) && waited) {
        state.sentVersion = version;
        state.sentTick = nowTick;
        due.push(peer);
      }
    }
    return due;
  }

  /** Records a partner's marks and schedules pulls for what it has beyond our contiguous marks. */
  receivedMarks(
    peer: ServerName,
    theirs: readonly OriginMark[],
    contiguous: (origin: NodeId) => number,
    nowTick: number,
  ): void {
    const state = this.#partners.get(peer);
    if (state !== undefined) {
      state.theirs = new Map(theirs.map((mark) => [mark.origin, mark.sequence]));
    }
    for (const mark of theirs) {
      if (mark.sequence <= contiguous(mark.origin)) continue;
      const key = pullKey(peer, mark.origin);
      const pull = this.#pulls.get(key);
      if (pull !== undefined) {
        pull.target = Math.max(pull.target, mark.sequence);
        continue;
      }
      if (this.#pulls.size >= backfillPullsPerRoomMax) continue;
      this.#pulls.set(key, {
        peer,
        origin: mark.origin,
        target: mark.sequence,
        dueTick: nowTick + this.#timing.graceTicks,
        sentTick: null,
      });
    }
  }

  /** Pulls whose request should go out now; each is marked sent. Finished pulls are dropped. */
  pullsDue(contiguous: (origin: NodeId) => number, nowTick: number): Pull[] {
    const due: Pull[] = [];
    for (const [key, pull] of this.#pulls) {
      if (contiguous(pull.origin) >= pull.target) {
        this.#pulls.delete(key);
        continue;
      }
      if (nowTick < pull.dueTick) continue;
      if (pull.sentTick !== null && nowTick - pull.sentTick < this.#timing.pullTimeoutTicks) {
        continue;
      }
      pull.sentTick = nowTick;
      due.push(pull);
    }
    return due;
  }

  /**
   * After a response from `peer` for `origin`: returns the pull to continue
   * at once, or null when it is finished (reached, or the peer had nothing
   * that advanced our mark).
   */
  responded(
    peer: ServerName,
    origin: NodeId,
    advanced: boolean,
    contiguous: number,
    nowTick: number,
  ): Pull | null {
    const key = pullKey(peer, origin);
    const pull = this.#pulls.get(key);
    if (pull === undefined) return null;
    if (!advanced || contiguous >= pull.target) {
      this.#pulls.delete(key);
      return null;
    }
    pull.sentTick = nowTick;
    return pull;
  }

  forget(peer: ServerName): void {
    this.#partners.delete(peer);
    for (const [key, pull] of this.#pulls) {
      if (pull.peer === peer) this.#pulls.delete(key);
    }
  }

  get pullCount(): number {
    return this.#pulls.size;
  }
}

function pullKey(peer: ServerName, origin: NodeId): string {
  return `${peer} ${origin}`;
}

function sameMarks(theirs: ReadonlyMap<NodeId, number>, mine: readonly OriginMark[]): boolean {
  if (theirs.size !== mine.length) return false;
  return mine.every((mark) => theirs.get(mark.origin) === mark.sequence);
}
