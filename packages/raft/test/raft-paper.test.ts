/**
 * Tests that follow the Raft paper ("In Search of an Understandable
 * Consensus Algorithm", extended version) section by section, in the manner
 * of etcd's raft_paper_test.go. PreVote and CheckQuorum are off unless a
 * test is about them, so the plain algorithm of the paper is under test.
 */
import { describe, expect, it } from "vitest";
import { EMPTY_CONF_STATE, MemoryStorage, type Message, nodeId, RawNode } from "../src/index.ts";
import { Cluster, encode } from "./harness/cluster.ts";

const plain = { preVote: false, checkQuorum: false };

/** Drains the node's Ready through the cluster loop without delivering, returning its messages. */
function sent(cluster: Cluster, id: string): Message[] {
  cluster.handleReady(nodeId(id));
  const messages = cluster.queue;
  cluster.queue = [];
  return messages;
}

describe("§5.1 terms", () => {
  it("a follower, candidate or leader that sees a higher term adopts it and becomes follower", () => {
    for (const role of ["follower", "candidate", "leader"] as const) {
      const cluster = Cluster.ofSize(3, plain);
      if (role === "leader") cluster.elect("1");
      if (role === "candidate") {
        cluster.node("1").rawNode.campaign();
        sent(cluster, "1");
      }
      const node = cluster.node("1").rawNode;
      node.step({
        type: "append",
        from: nodeId("2"),
        to: nodeId("1"),
        term: 7,
        prevIndex: 0,
        prevTerm: 0,
        entries: [],
        commit: 0,
      });
      const status = node.status();
      expect(status.hardState.term, role).toBe(7);
      expect(status.softState.role, role).toBe("follower");
      expect(status.softState.lead, role).toBe("2");
    }
  });

  it("a request with a stale term is not acted upon", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.elect("1");
    cluster.elect("2");
    const node = cluster.node("3").rawNode;
    const before = node.status();
    node.step({
      type: "append",
      from: nodeId("1"),
      to: nodeId("3"),
      term: 1,
      prevIndex: 0,
      prevTerm: 0,
      entries: [],
      commit: 0,
    });
    expect(node.status().hardState).toEqual(before.hardState);
    expect(node.status().softState.lead).toBe("2");
  });
});

describe("§5.2 leader election", () => {
  it("servers start as followers", () => {
    const node = Cluster.ofSize(3).node("1").rawNode;
    expect(node.status().softState.role).toBe("follower");
    expect(node.status().hardState.term).toBe(0);
  });

  it("a follower that hears nothing for an election timeout starts an election: new term, own vote, requests to all", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.tick("1", 10);
    const messages = sent(cluster, "1");
    const status = cluster.node("1").rawNode.status();
    expect(status.softState.role).toBe("candidate");
    expect(status.hardState).toMatchObject({ term: 1, vote: "1" });
    expect(messages.map((m) => `${m.type}->${m.to}@${m.term}`).sort()).toEqual([
      "vote->2@1",
      "vote->3@1",
    ]);
  });

  it("the leader sends heartbeats every heartbeat interval to prevent elections", () => {
    const cluster = Cluster.ofSize(3, { ...plain, heartbeatIntervalTicks: 2 });
    cluster.elect("1");
    cluster.tick("1");
    expect(sent(cluster, "1")).toEqual([]);
    cluster.tick("1");
    expect(sent(cluster, "1").map((m) => `${m.type}->${m.to}`)).toEqual([
      "heartbeat->2",
      "heartbeat->3",
    ]);
  });

  it("a candidate with votes from a majority becomes leader; a majority of rejections makes it a follower", () => {
    for (const [grants, expected] of [
      [2, "leader"],
      [0, "follower"],
    ] as const) {
      const cluster = Cluster.ofSize(5, plain);
      const node = cluster.node("1").rawNode;
      node.campaign();
      sent(cluster, "1");
      for (const voter of ["2", "3", "4", "5"]) {
        const reject = Number(voter) - 1 > grants;
        node.step({ type: "voteResponse", from: nodeId(voter), to: nodeId("1"), term: 1, reject });
      }
      expect(node.status().softState.role).toBe(expected);
    }
  });

  it("each server votes for at most one candidate per term, first come first served", () => {
    const cluster = Cluster.ofSize(3, plain);
    const node = cluster.node("3").rawNode;
    for (const candidate of ["1", "2"]) {
      node.step({
        type: "vote",
        from: nodeId(candidate),
        to: nodeId("3"),
        term: 1,
        lastIndex: 1,
        lastTerm: 1,
        transfer: false,
      });
    }
    const responses = sent(cluster, "3");
    expect(
      responses.map((m) => (m.type === "voteResponse" ? `${m.to}:${m.reject}` : m.type)),
    ).toEqual(["1:false", "2:true"]);
    expect(node.status().hardState.vote).toBe("1");
  });

  it("a candidate that hears from a leader of its term becomes follower", () => {
    const cluster = Cluster.ofSize(3, plain);
    const node = cluster.node("1").rawNode;
    node.campaign();
    node.step({
      type: "heartbeat",
      from: nodeId("2"),
      to: nodeId("1"),
      term: 1,
      commit: 0,
      readRound: 0,
      quiesce: false,
    });
    expect(node.status().softState).toMatchObject({ role: "follower", lead: "2" });
  });

  it("election timeouts are randomized in [T, 2T) from the injected random source", () => {
    for (const jitter of [0, 4, 9]) {
      const cluster = Cluster.ofSize(3, {
        ...plain,
        random: { nextInt: (max) => Math.min(jitter, max - 1) },
      });
      cluster.tick("1", 10 + jitter - 1);
      expect(cluster.node("1").rawNode.status().softState.role).toBe("follower");
      cluster.tick("1");
      expect(cluster.node("1").rawNode.status().softState.role).toBe("candidate");
    }
  });
});

describe("§5.3 log replication", () => {
  it("the leader appends a proposal, replicates it, commits it once a majority stores it, and everyone applies it", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.elect("1");
    const result = cluster.node("1").rawNode.propose(encode("x"));
    expect(result).toEqual({ status: "appended", index: 3, term: 1 });
    cluster.stabilize();
    for (const id of ["1", "2", "3"]) {
      expect(cluster.appliedData(id)).toEqual(["x"]);
      expect(cluster.node(id).rawNode.status().hardState.commit).toBe(3);
    }
  });

  it("an entry stored on a minority is not committed", () => {
    const cluster = Cluster.ofSize(5, plain);
    cluster.elect("1");
    cluster.filter = (m) => m.to === "1" || m.to === "2";
    cluster.node("1").rawNode.propose(encode("x"));
    cluster.stabilize();
    expect(cluster.node("1").rawNode.status().hardState.commit).toBe(2);
    cluster.heal();
    cluster.tick("1");
    cluster.stabilize();
    expect(cluster.node("1").rawNode.status().hardState.commit).toBe(3);
  });

  it("a follower rejects an append whose previous entry it does not hold, and the leader backs up until they match", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.elect("1");
    cluster.isolate("3");
    for (const text of ["a", "b", "c"]) cluster.node("1").rawNode.propose(encode(text));
    cluster.stabilize();
    cluster.heal();
    cluster.node("1").rawNode.propose(encode("d"));
    cluster.stabilize();
    expect(cluster.appliedData("3")).toEqual(["a", "b", "c", "d"]);
  });

  it("conflicting uncommitted entries on a follower are overwritten by the leader's", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.elect("1");
    // 1 appends "lost" but only reaches 2's... nobody: it is isolated.
    cluster.isolate("1");
    cluster.node("1").rawNode.propose(encode("lost"));
    cluster.stabilize();
    cluster.heal();
    cluster.filter = (m) => m.from !== "1" && m.to !== "1";
    cluster.elect("2");
    cluster.node("2").rawNode.propose(encode("kept"));
    cluster.stabilize();
    cluster.heal();
    cluster.tick("2");
    cluster.stabilize();
    expect(cluster.appliedData("1")).toEqual(["kept"]);
    const log = cluster.node("1").storage;
    expect(log.term(3)).toBe(2);
  });
});

describe("§5.4 safety", () => {
  it("§5.4.1 a voter denies its vote to a candidate whose log is less up to date", () => {
    const cluster = Cluster.ofSize(3, plain);
    cluster.elect("1");
    cluster.isolate("3");
    cluster.node("1").rawNode.propose(encode("x"));
    cluster.stabilize();
    cluster.heal();
    // 3 lacks index 3: neither 1 nor 2 votes for it.
    cluster.node("3").rawNode.campaign();
    cluster.stabilize();
    expect(cluster.node("3").rawNode.status().softState.role).not.toBe("leader");
  });

  it("§5.4.2 a leader never commits an entry of an earlier term by counting replicas (Figure 8)", () => {
    // Node 1 restarts holding entries of terms 1 and 2, and is elected in term 3.
    const storage = new MemoryStorage();
    const voters = ["1", "2", "3"].map(nodeId);
    storage.applySnapshot({
      metadata: { index: 1, term: 1, confState: { ...EMPTY_CONF_STATE, voters } },
      data: new Uint8Array(),
    });
    storage.append([
      { type: "normal", index: 2, term: 1, data: encode("a") },
      { type: "normal", index: 3, term: 2, data: encode("b") },
    ]);
    storage.setHardState({ term: 2, vote: null, commit: 1 });
    const node = new RawNode({ id: nodeId("1"), storage, random: { nextInt: () => 0 }, ...plain });
    const persist = () => {
      const ready = node.ready();
      storage.append(ready.entries);
      if (ready.hardState !== null) storage.setHardState(ready.hardState);
      node.advance();
    };
    node.campaign();
    persist();
    node.step({ type: "voteResponse", from: nodeId("2"), to: nodeId("1"), term: 3, reject: false });
    expect(node.status().softState.role).toBe("leader");
    persist(); // the empty entry of term 3 at index 4, acknowledged by the leader itself

    const ack = (index: number) =>
      node.step({
        type: "appendResponse",
        from: nodeId("2"),
        to: nodeId("1"),
        term: 3,
        index,
        reject: false,
        rejectHintIndex: 0,
        rejectHintTerm: 0,
      });
    // Index 3 (term 2) is now on a majority, 1 and 2, but is not committed...
    ack(3);
    expect(node.status().hardState.commit).toBe(1);
    // ...until an entry of term 3 is, which commits everything before it.
    ack(4);
    expect(node.status().hardState.commit).toBe(4);
  });
});

describe("§6 cluster membership", () => {
  it("a node outside the configuration cannot campaign", () => {
    const cluster = Cluster.ofSize(3, plain);
    const outsider = cluster.add(nodeId("9"), { ...cluster.node("1").confState, voters: [] });
    outsider.rawNode.campaign();
    expect(outsider.rawNode.status().softState.role).toBe("follower");
    expect(outsider.rawNode).toBeInstanceOf(RawNode);
  });
});
