/**
 * Regression (found by the simulator, seed 154 at 213b5c5 with slow disks):
 * a follower that has been handed committed entries — among them a
 * configuration change — and is still applying them (its Ready not yet
 * advanced) must not restore a leader's snapshot meanwhile. Otherwise the
 * change it then applies with applyConfChange lands on top of the
 * snapshot's newer configuration: the follower ends up in a configuration
 * nobody committed (here a joint one it never leaves), and a later simple
 * change fails to apply.
 */
import { describe, expect, it } from "vitest";
import {
  type ConfState,
  MemoryStorage,
  type Message,
  type NodeId,
  nodeId,
  RawNode,
  type Ready,
} from "../src/index.ts";

const voters = [nodeId("1"), nodeId("2"), nodeId("3")];
const bootstrap: ConfState = {
  voters,
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

interface TestNode {
  readonly rawNode: RawNode;
  readonly storage: MemoryStorage;
  confState: ConfState;
  applied: number;
}

function createNode(id: NodeId): TestNode {
  const storage = new MemoryStorage();
  storage.applySnapshot({
    metadata: { index: 1, term: 1, confState: bootstrap },
    data: new Uint8Array(),
  });
  const rawNode = new RawNode({
    id,
    storage,
    random: { nextInt: () => 0 },
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
  });
  return { rawNode, storage, confState: bootstrap, applied: 1 };
}

/** Persists a Ready (the first half of handling it): returns it for `finish`. */
function persist(node: TestNode): Ready {
  const ready = node.rawNode.ready();
  if (ready.snapshot !== null) node.storage.applySnapshot(ready.snapshot);
  node.storage.append(ready.entries);
  if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
  return ready;
}

/** Applies and advances a persisted Ready; returns its messages. */
function finish(node: TestNode, ready: Ready): Message[] {
  if (ready.snapshot !== null) {
    node.confState = ready.snapshot.metadata.confState;
    node.applied = ready.snapshot.metadata.index;
  }
  for (const entry of ready.committedEntries) {
    if (entry.type === "confChange") node.confState = node.rawNode.applyConfChange(entry.change);
    node.applied = entry.index;
  }
  node.rawNode.advance();
  return [...ready.earlyMessages, ...ready.messages];
}

describe("a snapshot arriving while committed entries are being applied", () => {
  it("does not let an older configuration change land on the snapshot's configuration", () => {
    const nodes = new Map(voters.map((id) => [id, createNode(id)]));
    const node = (id: string): TestNode => {
      const found = nodes.get(nodeId(id));
      if (found === undefined) throw new Error(`no node ${id}`);
      return found;
    };
    // Delivers messages among `ids` until quiet (messages to others are dropped).
    const run = (ids: readonly string[], pending: Message[] = []): void => {
      for (let round = 0; round < 100; round++) {
        for (const id of ids) {
          while (node(id).rawNode.hasReady()) pending.push(...finish(node(id), persist(node(id))));
        }
        const deliverable = pending.filter((message) => ids.includes(message.to));
        pending.length = 0;
        if (deliverable.length === 0) return;
        for (const message of deliverable) node(message.to).rawNode.step(message);
      }
      throw new Error("did not settle");
    };

    const leader = node("1");
    const follower = node("2");
    leader.rawNode.campaign();
    run(["1", "2", "3"]);
    expect(leader.rawNode.status().softState.role).toBe("leader");

    // A joint change the leader leaves by itself: enter at 3, leave at 4.
    leader.rawNode.proposeConfChange({
      transition: "jointImplicit",
      changes: [{ type: "addLearner", nodeId: nodeId("4") }],
      context: new Uint8Array(),
    });
    // The follower takes the enter-joint entry and learns it is committed,
    // then is slow: its Ready (committing index 3) is persisted but not yet
    // applied when the leader, helped by node 3 alone, moves on.
    const toFollower: Message[] = [];
    const collect = (messages: Message[]): void => {
      for (const message of messages) {
        if (message.to === "2") toFollower.push(message);
        else if (message.to === "3") node("3").rawNode.step(message);
      }
    };
    for (let round = 0; round < 10; round++) {
      collect(finish(leader, persist(leader)));
      const three = node("3");
      while (three.rawNode.hasReady()) {
        for (const message of finish(three, persist(three))) leader.rawNode.step(message);
      }
      for (const message of toFollower.splice(0)) follower.rawNode.step(message);
      if (follower.rawNode.status().hardState.commit >= 3) break;
    }
    const slowReady = persist(follower);
    expect(slowReady.committedEntries.some((entry) => entry.type === "confChange")).toBe(true);

    // The leader commits the leave and more, snapshots and compacts past the
    // follower, and sends it that snapshot.
    leader.rawNode.propose(new TextEncoder().encode("x"));
    run(["1", "3"]);
    const index = leader.applied;
    leader.storage.createSnapshot(index, leader.confState, new Uint8Array());
    leader.storage.compact(index);
    leader.rawNode.reportUnreachable(nodeId("2"));
    leader.rawNode.propose(new TextEncoder().encode("y"));
    const toFollowerNow = finish(leader, persist(leader)).filter((message) => message.to === "2");
    expect(toFollowerNow.some((message) => message.type === "snapshot")).toBe(true);
    leader.rawNode.reportSnapshot(nodeId("2"), "finish");
    for (const message of toFollowerNow) follower.rawNode.step(message);

    // Now the follower finishes applying its old Ready, then catches up
    // (the leader retries the snapshot after the next heartbeat).
    const messages = finish(follower, slowReady);
    run(["1", "2", "3"], messages);
    for (let tick = 0; tick < 5; tick++) {
      leader.rawNode.tick();
      run(["1", "2", "3"]);
    }
    expect(follower.applied).toBe(leader.applied);
    expect(follower.rawNode.status().config).toEqual(leader.rawNode.status().config);
    expect(follower.confState).toEqual(leader.confState);
    expect(follower.confState.votersOutgoing).toEqual([]);
  });
});
