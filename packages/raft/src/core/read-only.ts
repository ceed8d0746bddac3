/**
 * ReadIndex bookkeeping at the leader (Raft thesis §6.4, the "safe" variant
 * only: no lease reads, because the clocks of different organisations are
 * not trusted).
 *
 * Each read request records the commit index when it arrived. The leader then
 * broadcasts a heartbeat carrying a read round number; once a quorum has
 * answered a round, every request up to that round is confirmed: the leader
 * was still the leader when the request arrived, so its recorded commit index
 * is a safe read index. Round numbers stand in for etcd's heartbeat context
 * bytes and keep heartbeats small.
 */
import { type JointConfig, jointCommittedIndex } from "../quorum/joint.ts";
import type { LogIndex, NodeId } from "../types.ts";

export interface ReadRequest {
  /** Who asked: the leader itself or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly context: Uint8Array;
}

export interface ConfirmedRead {
  readonly request: ReadRequest;
  readonly index: LogIndex;
}

export class ReadOnlyQueue {
  /** The highest round each voter has acknowledged. */
  private readonly acks = new Map<NodeId, number>();
  private unconfirmed: ConfirmedRead[] = [];
  /** How many requests (rounds) were confirmed so far. */
  private confirmedRounds = 0;

  get pendingCount(): number {
    return this.unconfirmed.length;
  }

  addRequest(commitIndex: LogIndex, request: ReadRequest): void {
    this.unconfirmed.push({ request, index: commitIndex });
  }

  /** The round that confirms every pending request, or 0 if none is pending. */
  heartbeatRound(): number {
    return this.unconfirmed.length === 0 ? 0 : this.confirmedRounds + this.unconfirmed.length;
  }

  recvAck(from: NodeId, round: number): void {
    if (round === 0) return;
    this.acks.set(from, Math.max(this.acks.get(from) ?? 0, round));
  }

  /** Confirms and returns the requests a quorum has acknowledged. */
  maybeAdvance(voters: JointConfig): ConfirmedRead[] {
    const round = jointCommittedIndex(voters, (id) => this.acks.get(id));
    if (!Number.isFinite(round) || round <= this.confirmedRounds) return [];
    const count = round - this.confirmedRounds;
    const confirmed = this.unconfirmed.slice(0, count);
    this.unconfirmed = this.unconfirmed.slice(count);
    this.confirmedRounds = round;
    return confirmed;
  }
}
