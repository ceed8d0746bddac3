/**
 * Configuration changes as pure functions from one configuration to the next
 * (etcd's confchange package). Each function validates its result and throws
 * `ConfChangeError` instead of returning an invalid configuration, so a bad
 * change is refused before it can affect the active configuration.
 *
 *  - `simpleChange`: changes at most one voter (adding, removing, promoting a
 *    learner, demoting a voter). Any two majorities of configurations that
 *    differ by one voter overlap, so no joint phase is needed.
 *  - `enterJoint`: C_old -> C_{old,new}. Voters go to `incoming`, the old
 *    voter set is kept as `outgoing`.
 *  - `leaveJoint`: C_{old,new} -> C_new.
 */
import { isJoint } from "../quorum/joint.ts";
import type { TrackerConfig } from "../tracker/tracker.ts";
import {
  type ConfChange,
  type ConfChangeSingle,
  type ConfState,
  isLeaveJoint,
  jointTransition,
  type NodeId,
} from "../types.ts";

export class ConfChangeError extends Error {
  override readonly name = "ConfChangeError";
}

interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function copy(config: TrackerConfig): MutableConfig {
  return {
    incoming: new Set(config.voters.incoming),
    outgoing: new Set(config.voters.outgoing),
    learners: new Set(config.learners),
    learnersNext: new Set(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

function freeze(config: MutableConfig): TrackerConfig {
  const result: TrackerConfig = {
    voters: { incoming: config.incoming, outgoing: config.outgoing },
    learners: config.learners,
    learnersNext: config.learnersNext,
    autoLeave: config.autoLeave,
  };
  checkInvariants(result);
  return result;
}

/** The invariants every configuration satisfies; see TrackerConfig. */
export function checkInvariants(config: TrackerConfig): void {
  const { incoming, outgoing } = config.voters;
  for (const id of config.learnersNext) {
    if (!outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext but not outgoing`);
    if (config.learners.has(id)) throw new ConfChangeError(`${id} is in learnersNext and learners`);
  }
  for (const id of config.learners) {
    if (incoming.has(id) || outgoing.has(id)) {
      throw new ConfChangeError(`${id} is both a learner and a voter`);
    }
  }
  if (!isJoint(config.voters)) {
    if (config.learnersNext.size > 0) throw new ConfChangeError("learnersNext outside joint");
    if (config.autoLeave) throw new ConfChangeError("autoLeave outside joint");
  }
}

function isMember(config: MutableConfig, id: NodeId): boolean {
  return config.incoming.has(id) || config.outgoing.has(id) || config.learners.has(id);
}

function makeVoter(config: MutableConfig, id: NodeId): void {
  config.learners.delete(id);
  config.learnersNext.delete(id);
  config.incoming.add(id);
}

function makeLearner(config: MutableConfig, id: NodeId): void {
  if (config.learners.has(id)) return;
  config.incoming.delete(id);
  config.learnersNext.delete(id);
  // A voter of the outgoing half must stay a voter until the joint phase
  // ends; it becomes a learner then.
  if (config.outgoing.has(id)) config.learnersNext.add(id);
  else config.learners.add(id);
}

function remove(config: MutableConfig, id: NodeId): void {
  if (!isMember(config, id)) return;
  config.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
}

function applyChanges(config: MutableConfig, changes: readonly ConfChangeSingle[]): void {
  for (const change of changes) {
    switch (change.type) {
      case "addVoter":
        makeVoter(config, change.nodeId);
        break;
      case "addLearner":
        makeLearner(config, change.nodeId);
        break;
      case "removeNode":
        remove(config, change.nodeId);
        break;
    }
  }
  if (config.incoming.size === 0) throw new ConfChangeError("removed all voters");
}

function symmetricDifferenceSize(a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>): number {
  let count = 0;
  for (const id of a) if (!b.has(id)) count++;
  for (const id of b) if (!a.has(id)) count++;
  return count;
}

export function simpleChange(
  current: TrackerConfig,
  changes: readonly ConfChangeSingle[],
): TrackerConfig {
  if (isJoint(current.voters)) {
    throw new ConfChangeError("can't apply a simple change in a joint configuration");
  }
  const next = copy(current);
  applyChanges(next, changes);
  if (symmetricDifferenceSize(current.voters.incoming, next.incoming) > 1) {
    throw new ConfChangeError("more than one voter changed without entering a joint configuration");
  }
  return freeze(next);
}

export function enterJoint(
  current: TrackerConfig,
  autoLeave: boolean,
  changes: readonly ConfChangeSingle[],
): TrackerConfig {
  if (isJoint(current.voters)) throw new ConfChangeError("configuration is already joint");
  if (current.voters.incoming.size === 0) {
    // An empty configuration can be populated by simple changes (bootstrap),
    // but there is no old majority to keep.
    throw new ConfChangeError("can't make a zero-voter configuration joint");
  }
  const next = copy(current);
  next.outgoing = new Set(current.voters.incoming);
  applyChanges(next, changes);
  next.autoLeave = autoLeave;
  return freeze(next);
}

export function leaveJoint(current: TrackerConfig): TrackerConfig {
  if (!isJoint(current.voters)) throw new ConfChangeError("can't leave a non-joint configuration");
  const next = copy(current);
  for (const id of next.learnersNext) next.learners.add(id);
  next.learnersNext = new Set();
  next.outgoing = new Set();
  next.autoLeave = false;
  return freeze(next);
}

/** Rebuilds the configuration a ConfState describes (from a snapshot or storage). */
export function configFromConfState(state: ConfState): TrackerConfig {
  const config: TrackerConfig = {
    voters: { incoming: new Set(state.voters), outgoing: new Set(state.votersOutgoing) },
    learners: new Set(state.learners),
    learnersNext: new Set(state.learnersNext),
    autoLeave: state.autoLeave,
  };
  checkInvariants(config);
  return config;
}

/** Applies a ConfChange with etcd's ConfChangeV2 transition semantics. */
export function applyConfChangeToConfig(current: TrackerConfig, change: ConfChange): TrackerConfig {
  if (isLeaveJoint(change)) return leaveJoint(current);
  const joint = jointTransition(change);
  if (joint !== null) return enterJoint(current, joint.autoLeave, change.changes);
  return simpleChange(current, change.changes);
}
