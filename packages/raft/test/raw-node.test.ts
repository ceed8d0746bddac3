/**
 * RawNode's contract with its caller: the Ready/advance protocol, proposal
 * outcomes, limits (batching, pipelining, uncommitted size, apply batches),
 * flow-control reports, and quiescence with liveness reports.
 */
import { describe, expect, it } from "vitest";
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  isHeartbeatMessage,
  type Message,
  nodeId,
  RaftAssertionError,
} from "../src/index.ts";
import { Cluster, encode } from "./harness/cluster.ts";

function drain(cluster: Cluster, id: string): Message[] {
  cluster.handleReady(nodeId(id));
  const messages = cluster.queue;
  cluster.queue = [];
  return messages;
}

describe("the Ready/advance protocol", () => {
  it("refuses a second ready() before advance(), and advance() without ready()", () => {
    const node = Cluster.ofSize(1, { preVote: false }).node("1").rawNode;
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(RaftAssertionError);
    node.advance();
    expect(() => node.advance()).toThrow(RaftAssertionError);
  });

  it("counts the node's own vote and own entries only after advance (after persisting)", () => {
    const cluster = Cluster.ofSize(1, { preVote: false });
    const node = cluster.node("1").rawNode;
    node.campaign();
    expect(node.status().softState.role).toBe("candidate");
    const ready = node.ready();
    expect(ready.hardState).toMatchObject({ term: 1, vote: "1" });
    expect(ready.mustSync).toBe(true);
    node.advance();
    expect(node.status().softState.role).toBe("leader");
    cluster.stabilize();
    expect(node.status().hardState.commit).toBe(2);
  });

  it("lets the leader's appends leave early, but holds every message of a new term or vote", () => {
    const cluster = Cluster.ofSize(3, { preVote: false });
    const candidate = cluster.node("1").rawNode;
    candidate.campaign();
    const election = candidate.ready();
    expect(election.hardState).toMatchObject({ term: 1, vote: "1" });
    expect(election.earlyMessages).toEqual([]);
    expect(election.messages.map((m) => m.type)).toEqual(["vote", "vote"]);
    candidate.advance();
    cluster.queue.push(...election.messages);
    cluster.stabilize();
    expect(cluster.leaders()).toEqual(["1"]);

    candidate.propose(encode("x"));
    const append = candidate.ready();
    expect(append.entries).toHaveLength(1);
    expect(append.earlyMessages.map((m) => m.type)).toEqual(["append", "append"]);
    expect(append.messages).toEqual([]);
    // Both followers acknowledge before the leader's own write is done: that
    // is a quorum of the three, and the entry commits ...
    for (const message of append.earlyMessages) cluster.deliver(message);
    for (const id of ["2", "3"]) {
      for (const message of drain(cluster, id)) cluster.deliver(message);
    }
    const index = append.entries[0]?.index ?? 0;
    expect(candidate.status().hardState.commit).toBe(index);
    candidate.advance();
  });

  it("counts the leader's own entries toward commitment only after advance()", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    const leader = cluster.node("1").rawNode;
    leader.propose(encode("x"));
    const append = leader.ready();
    const index = append.entries[0]?.index ?? 0;
    // One follower acknowledges while the leader's write is in flight: the
    // leader's own copy does not count yet, so one of three is no quorum.
    const toTwo = append.earlyMessages.filter((m) => m.to === "2");
    for (const message of toTwo) cluster.deliver(message);
    for (const message of drain(cluster, "2")) cluster.deliver(message);
    expect(leader.status().hardState.commit).toBeLessThan(index);
    leader.advance();
    expect(leader.status().hardState.commit).toBe(index);
  });

  it("has nothing to do once the group is idle", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    for (const id of ["1", "2", "3"]) expect(cluster.node(id).rawNode.hasReady()).toBe(false);
  });

  it("asserts that a message is stepped on its addressee, and ignores responses from strangers", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    const leader = cluster.node("1").rawNode;
    const before = leader.status();
    expect(() =>
      leader.step({
        type: "heartbeatResponse",
        from: nodeId("2"),
        to: nodeId("3"),
        term: 1,
        readRound: 0,
      }),
    ).toThrow(RaftAssertionError);
    leader.step({
      type: "appendResponse",
      from: nodeId("9"),
      to: nodeId("1"),
      term: 5,
      index: 99,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    });
    expect(leader.status().hardState).toEqual(before.hardState);
  });
});

describe("proposals", () => {
  it("reports where a proposal went", () => {
    const cluster = Cluster.ofSize(3);
    expect(cluster.node("1").rawNode.propose(encode("x"))).toEqual({
      status: "dropped",
      reason: "noLeader",
    });
    cluster.elect("1");
    expect(cluster.node("2").rawNode.propose(encode("x"))).toEqual({
      status: "forwarded",
      to: "1",
    });
    cluster.stabilize();
    expect(cluster.appliedData("3")).toEqual(["x"]);
    expect(cluster.node("1").rawNode.propose(encode("y"))).toMatchObject({
      status: "appended",
      index: 4,
    });
  });

  it("drops proposals beyond the uncommitted-bytes limit until entries commit", () => {
    const cluster = Cluster.ofSize(3, { uncommittedEntriesBytesMax: 10 });
    cluster.elect("1");
    cluster.isolate("1");
    const leader = cluster.node("1").rawNode;
    expect(leader.propose(new Uint8Array(8)).status).toBe("appended");
    expect(leader.propose(new Uint8Array(8))).toEqual({
      status: "dropped",
      reason: "uncommittedLimit",
    });
    cluster.stabilize();
    cluster.heal();
    cluster.tick("1");
    cluster.stabilize();
    expect(leader.propose(new Uint8Array(8)).status).toBe("appended");
  });

  it("refuses a configuration change until the new leader's first entry is applied", () => {
    const cluster = Cluster.ofSize(3, { preVote: false, checkQuorum: false });
    const node = cluster.node("1").rawNode;
    node.campaign();
    cluster.handleReady(nodeId("1"));
    cluster.stabilize();
    cluster.node("2").rawNode.campaign();
    drain(cluster, "2");
    const leader = cluster.node("2").rawNode;
    for (const voter of ["1", "3"]) {
      const from = nodeId(voter);
      leader.step({ type: "voteResponse", from, to: nodeId("2"), term: 2, reject: false });
    }
    expect(leader.status().softState.role).toBe("leader");
    const change = {
      transition: "auto" as const,
      changes: [{ type: "addLearner" as const, nodeId: nodeId("4") }],
      context: EMPTY_BYTES,
    };
    expect(leader.proposeConfChange(change)).toEqual({
      status: "dropped",
      reason: "confChangePending",
    });
  });

  it("refuses an invalid configuration change before it enters the log", () => {
    const cluster = Cluster.ofSize(1);
    cluster.elect("1");
    const removeAll = {
      transition: "auto" as const,
      changes: [{ type: "removeNode" as const, nodeId: nodeId("1") }],
      context: EMPTY_BYTES,
    };
    expect(cluster.node("1").rawNode.proposeConfChange(removeAll)).toEqual({
      status: "dropped",
      reason: "invalidConfChange",
    });
  });
});

describe("batching, pipelining and apply batches", () => {
  it("limits append messages by bytes and pipelines up to the in-flight window", () => {
    const cluster = Cluster.ofSize(2, { appendMessageBytesMax: 40, inflightMessagesMax: 2 });
    cluster.elect("1");
    cluster.filter = () => false;
    const leader = cluster.node("1").rawNode;
    for (let i = 0; i < 6; i++) leader.propose(new Uint8Array(20));
    // Each proposal triggers a broadcast; the window fills after two messages.
    const appends = drain(cluster, "1").filter((m) => m.type === "append");
    expect(appends).toHaveLength(2);
    for (const append of appends) expect(append.type === "append" && append.entries.length).toBe(1);
    expect(leader.status().progress?.get(nodeId("2"))).toMatchObject({
      state: "replicate",
      paused: true,
    });
  });

  it("sends several entries per message when they fit", () => {
    const cluster = Cluster.ofSize(2, { appendMessageBytesMax: 200 });
    cluster.elect("1");
    cluster.isolate("2");
    const leader = cluster.node("1").rawNode;
    for (let i = 0; i < 5; i++) leader.propose(new Uint8Array(10));
    cluster.stabilize();
    const sizes: number[] = [];
    cluster.filter = (m) => {
      if (m.type === "append" && m.to === "2") sizes.push(m.entries.length);
      return true;
    };
    // The follower is probed, then caught up in one message.
    leader.reportUnreachable(nodeId("2"));
    cluster.tick("1");
    cluster.stabilize();
    expect(sizes).toContain(5);
    expect(cluster.node("2").storage.lastIndex()).toBe(7);
  });

  it("hands out committed entries in batches bounded by bytes", () => {
    const cluster = Cluster.ofSize(1, { committedEntriesPerReadyBytesMax: 60 });
    cluster.elect("1");
    const node = cluster.node("1");
    for (let i = 0; i < 4; i++) node.rawNode.propose(new Uint8Array(20));
    const sizes: number[] = [];
    while (node.rawNode.hasReady()) {
      const ready = node.rawNode.ready();
      node.storage.append(ready.entries);
      if (ready.committedEntries.length > 0) sizes.push(ready.committedEntries.length);
      node.rawNode.advance();
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  });
});

describe("flow-control reports", () => {
  it("reportUnreachable sends a replicating follower back to probing", () => {
    const cluster = Cluster.ofSize(2);
    cluster.elect("1");
    const leader = cluster.node("1").rawNode;
    expect(leader.status().progress?.get(nodeId("2"))?.state).toBe("replicate");
    leader.reportUnreachable(nodeId("2"));
    expect(leader.status().progress?.get(nodeId("2"))?.state).toBe("probe");
  });

  it("a failed snapshot goes back to probing from the follower's match", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    cluster.isolate("3");
    const leader = cluster.node("1").rawNode;
    leader.propose(encode("a"));
    cluster.stabilize();
    cluster.compact("1");
    let snapshots = 0;
    cluster.filter = (m) => {
      if (m.type !== "snapshot") return true;
      snapshots++;
      return false; // lost in transit
    };
    cluster.tick("1");
    cluster.stabilize();
    expect(snapshots).toBe(1);
    expect(leader.status().progress?.get(nodeId("3"))?.state).toBe("snapshot");
    leader.reportSnapshot(nodeId("3"), "failure");
    expect(leader.status().progress?.get(nodeId("3"))).toMatchObject({
      state: "probe",
      pendingSnapshot: 0,
    });
    // The next heartbeat round tries again, and this time the snapshot arrives.
    cluster.heal();
    cluster.tick("1");
    cluster.stabilize();
    expect(cluster.appliedData("3")).toEqual(["a"]);
    expect(leader.status().progress?.get(nodeId("3"))?.state).toBe("replicate");
  });
});

describe("quiescence and liveness", () => {
  const quiet = { quiesce: true };

  function quiesced(size: number): Cluster {
    const cluster = Cluster.ofSize(size, quiet);
    cluster.elect("1");
    cluster.tick("1");
    cluster.stabilize();
    for (const id of cluster.nodes.keys()) expect(cluster.node(id).rawNode.isQuiesced()).toBe(true);
    return cluster;
  }

  it("a quiet group sends nothing however long it is ticked", () => {
    const cluster = quiesced(3);
    for (const id of ["1", "2", "3"]) cluster.tick(id, 100);
    for (const id of ["1", "2", "3"]) expect(drain(cluster, id)).toEqual([]);
  });

  it("a leader stays quiet when one of five followers dies, and wakes when a quorum is lost", () => {
    const cluster = quiesced(5);
    const leader = cluster.node("1").rawNode;
    leader.peerLivenessChanged(nodeId("5"), false);
    leader.peerLivenessChanged(nodeId("4"), false);
    expect(leader.isQuiesced()).toBe(true);
    leader.peerLivenessChanged(nodeId("3"), false);
    expect(leader.isQuiesced()).toBe(false);
    // Awake, it heartbeats; CheckQuorum then makes it step down.
    expect(drain(cluster, "1").every(isHeartbeatMessage)).toBe(true);
  });

  it("followers of a dead leader wake; followers of a dead follower do not", () => {
    const cluster = quiesced(3);
    cluster.node("2").rawNode.peerLivenessChanged(nodeId("3"), false);
    expect(cluster.node("2").rawNode.isQuiesced()).toBe(true);
    cluster.node("2").rawNode.peerLivenessChanged(nodeId("1"), false);
    expect(cluster.node("2").rawNode.isQuiesced()).toBe(false);
    expect(cluster.node("2").rawNode.status().softState.lead).toBeNull();
  });

  it("followers told that their leader died campaign within an election timeout, not after it", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    const term = cluster.node("2").rawNode.status().hardState.term;
    cluster.isolate("1");
    for (const id of ["2", "3"]) cluster.node(id).rawNode.peerLivenessChanged(nodeId("1"), false);
    // The test's random source returns 0: the campaign comes after one tick
    // (the default wait is ten to twenty).
    cluster.tick("2");
    cluster.stabilize();
    expect(cluster.node("2").rawNode.status().softState.role).toBe("leader");
    expect(cluster.node("2").rawNode.status().hardState.term).toBe(term + 1);
  });

  it("a one-way report of a live leader's death does not raise any term", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    const term = cluster.node("1").rawNode.status().hardState.term;
    cluster.node("2").rawNode.peerLivenessChanged(nodeId("1"), false);
    for (let round = 0; round < 30; round++) {
      for (const id of ["1", "2", "3"]) cluster.tick(id);
      cluster.stabilize();
    }
    expect(cluster.leaders()).toEqual(["1"]);
    for (const id of ["1", "2", "3"]) {
      expect(cluster.node(id).rawNode.status().hardState.term).toBe(term);
    }
  });

  it("heartbeats are small and recognisable so a transport can coalesce them", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    cluster.tick("1");
    const heartbeats = drain(cluster, "1");
    expect(heartbeats.length).toBe(2);
    for (const message of heartbeats) {
      expect(isHeartbeatMessage(message)).toBe(true);
      expect(Object.keys(message).sort()).toEqual([
        "commit",
        "from",
        "quiesce",
        "readRound",
        "term",
        "to",
        "type",
      ]);
    }
  });

  it("without quiescence enabled, an idle leader keeps heartbeating", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    cluster.tick("1");
    cluster.stabilize();
    expect(cluster.node("1").rawNode.isQuiesced()).toBe(false);
    cluster.tick("1");
    expect(drain(cluster, "1")).toHaveLength(2);
  });
});

describe("membership", () => {
  it("applyConfChange returns the new configuration", () => {
    const cluster = Cluster.ofSize(1);
    cluster.elect("1");
    cluster.node("1").rawNode.proposeConfChange({
      transition: "auto",
      changes: [{ type: "addLearner", nodeId: nodeId("2") }],
      context: EMPTY_BYTES,
    });
    cluster.stabilize();
    expect(cluster.node("1").confState).toEqual({
      ...EMPTY_CONF_STATE,
      voters: ["1"],
      learners: ["2"],
    });
    expect(cluster.node("1").rawNode.status().config.learners).toEqual(["2"]);
  });

  it("applies a conditional change only against the expected configuration", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    const leader = cluster.node("1").rawNode;
    const decidedAgainst = leader.status().config;
    const addLearner = (id: string) => ({
      transition: "auto" as const,
      changes: [{ type: "addLearner" as const, nodeId: nodeId(id) }],
      context: EMPTY_BYTES,
      expectedConfState: decidedAgainst,
    });
    expect(leader.proposeConfChange(addLearner("4")).status).toBe("appended");
    cluster.stabilize();
    expect(leader.status().config.learners).toEqual(["4"]);
    // Decided against the configuration before 4 joined: refused, both at
    // the leader and when forwarded by a follower.
    expect(leader.proposeConfChange(addLearner("5"))).toEqual({
      status: "dropped",
      reason: "confStateMismatch",
    });
    expect(cluster.node("2").rawNode.proposeConfChange(addLearner("5")).status).toBe("forwarded");
    cluster.stabilize();
    expect(leader.status().config.learners).toEqual(["4"]);
    // Order within the lists does not matter.
    const current = leader.status().config;
    const reordered = { ...current, voters: [...current.voters].reverse() };
    const result = leader.proposeConfChange({ ...addLearner("5"), expectedConfState: reordered });
    expect(result.status).toBe("appended");
  });

  function removeLeader(cluster: Cluster): void {
    const result = cluster.node("1").rawNode.proposeConfChange({
      transition: "auto",
      changes: [{ type: "removeNode", nodeId: nodeId("1") }],
      context: EMPTY_BYTES,
    });
    expect(result.status).toBe("appended");
  }

  it("a removed leader hands over to the most up-to-date voter of the new configuration", () => {
    const cluster = Cluster.ofSize(4);
    cluster.elect("1");
    // 2 misses the next entry, so 3 and 4 are ahead of it when 1 is removed.
    cluster.filter = (message) => message.to !== "2";
    cluster.node("1").rawNode.propose(encode("x"));
    cluster.stabilize();
    removeLeader(cluster);
    cluster.stabilize();
    // 1 still believes it leads term 1 until it hears of term 2 (or times out).
    expect(cluster.leaders()).toEqual(["1", "3"]);
    expect(cluster.node("1").rawNode.status().hardState.term).toBe(1);
    expect(cluster.node("3").rawNode.status().hardState.term).toBe(2);
    cluster.heal();
    cluster.node("3").rawNode.propose(encode("y"));
    // A heartbeat resumes the probe to 2, whose earlier appends were lost.
    cluster.tick("3");
    cluster.stabilize();
    expect(cluster.appliedData("2")).toEqual(["x", "y"]);
  });

  it("a removed leader accepts no proposals while handing over", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    removeLeader(cluster);
    // Deliver nothing to 2 and 3 after they acknowledge, so the handover hangs.
    cluster.handleReady(nodeId("1"));
    for (const message of cluster.queue.splice(0)) cluster.deliver(message);
    cluster.handleReady(nodeId("2"));
    cluster.handleReady(nodeId("3"));
    for (const message of cluster.queue.splice(0)) cluster.deliver(message);
    cluster.handleReady(nodeId("1"));
    const leader = cluster.node("1").rawNode;
    expect(leader.status().config.voters).toEqual(["2", "3"]);
    expect(leader.status().softState.role).toBe("leader");
    expect(leader.propose(encode("late"))).toEqual({
      status: "dropped",
      reason: "transferInProgress",
    });
  });

  it("a removed leader whose handover does not finish steps down after an election timeout", () => {
    const cluster = Cluster.ofSize(3);
    cluster.elect("1");
    // TimeoutNow is lost: no transfer election happens.
    cluster.filter = (message) => message.type !== "timeoutNow";
    removeLeader(cluster);
    cluster.stabilize();
    const leader = cluster.node("1").rawNode;
    expect(leader.status().softState.role).toBe("leader");
    cluster.tick("1", 9);
    expect(leader.status().softState.role).toBe("leader");
    cluster.tick("1", 1);
    expect(leader.status().softState.role).toBe("follower");
  });
});
