/**
 * Randomized safety checks: fast-check drives a small cluster through
 * arbitrary interleavings of ticks, deliveries (in any order), drops,
 * duplicates, proposals, configuration changes, compactions and crashes,
 * and after every step we check Raft's safety properties:
 *
 *  - election safety: at most one leader per term;
 *  - state machine safety: no two nodes apply different entries at an index;
 *  - each node applies a gap-free sequence;
 *  - persisted term and commit index never go backwards.
 *
 * This is not the project's simulator (packages/raft/src/simulation, built on
 * packages/simulation); it is a quick net under the core's own test suite.
 * fast-check prints the seed and the shrunk action list of any failure.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ConfChange, EMPTY_CONF_STATE, type Entry, nodeId } from "../src/index.ts";
import { Cluster, encode } from "./harness/cluster.ts";

type Action =
  | { kind: "tick"; node: number; count: number }
  | { kind: "ready"; node: number }
  | { kind: "deliver"; pick: number }
  | { kind: "drop"; pick: number }
  | { kind: "duplicate"; pick: number }
  | { kind: "propose"; node: number }
  | { kind: "confChange"; node: number; change: number }
  | { kind: "compact"; node: number }
  | { kind: "restart"; node: number }
  | { kind: "campaign"; node: number }
  | { kind: "transfer"; node: number; to: number }
  | { kind: "flush" };

const NODES = ["1", "2", "3", "4"];

const CHANGES: ConfChange[] = [
  [{ type: "addLearner", nodeId: "4" }],
  [{ type: "addVoter", nodeId: "4" }],
  [{ type: "removeNode", nodeId: "3" }],
  [{ type: "addVoter", nodeId: "3" }],
  [
    { type: "addVoter", nodeId: "4" },
    { type: "removeNode", nodeId: "1" },
  ],
  [
    { type: "addVoter", nodeId: "1" },
    { type: "removeNode", nodeId: "2" },
  ],
].map((changes) => ({
  transition: "auto" as const,
  changes: changes.map((c) => ({ type: c.type as "addVoter", nodeId: nodeId(c.nodeId) })),
  context: new Uint8Array(0),
}));

const node = fc.integer({ min: 0, max: NODES.length - 1 });
const pick = fc.nat({ max: 1000 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      node,
      count: fc.integer({ min: 1, max: 12 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("ready" as const), node }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant("deliver" as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), pick }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("propose" as const), node }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("confChange" as const),
      node,
      change: fc.integer({ min: 0, max: CHANGES.length - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("campaign" as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("transfer" as const), node, to: node }) },
  { weight: 4, arbitrary: fc.constant({ kind: "flush" as const }) },
);

const options = fc.record({
  preVote: fc.boolean(),
  checkQuorum: fc.boolean(),
  quiesce: fc.boolean(),
  inflightMessagesMax: fc.integer({ min: 1, max: 4 }),
  appendMessageBytesMax: fc.constantFrom(0, 40, Number.POSITIVE_INFINITY),
});

class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, string>();
  private readonly lastPersisted = new Map<string, { term: number; commit: number }>();
  private readonly appliedAt = new Map<number, string>();

  check(cluster: Cluster): void {
    for (const [id, n] of cluster.nodes) {
      const status = n.rawNode.status();
      if (status.softState.role === "leader") {
        const existing = this.leaderOfTerm.get(status.hardState.term);
        expect(
          existing === undefined || existing === id,
          `two leaders in term ${status.hardState.term}`,
        ).toBe(true);
        this.leaderOfTerm.set(status.hardState.term, id);
      }
      const { hardState } = n.storage.initialState();
      const previous = this.lastPersisted.get(id) ?? { term: 0, commit: 0 };
      expect(hardState.term >= previous.term, `node ${id} term went back`).toBe(true);
      expect(hardState.commit >= previous.commit, `node ${id} commit went back`).toBe(true);
      this.lastPersisted.set(id, { term: hardState.term, commit: hardState.commit });
      this.checkApplied(id, n.applied);
    }
  }

  private checkApplied(id: string, applied: readonly Entry[]): void {
    for (let i = 1; i < applied.length; i++) {
      expect(applied[i]?.index, `node ${id} applied with a gap`).toBe(
        (applied[i - 1]?.index ?? 0) + 1,
      );
    }
    for (const entry of applied) {
      const key = `${entry.term}:${entry.type === "normal" ? [...entry.data].join(",") : JSON.stringify(entry.change.changes)}`;
      const existing = this.appliedAt.get(entry.index);
      expect(
        existing === undefined || existing === key,
        `index ${entry.index} applied differently`,
      ).toBe(true);
      this.appliedAt.set(entry.index, key);
    }
  }
}

type Options = typeof options extends fc.Arbitrary<infer T> ? T : never;

function run(actions: readonly Action[], config: Options): void {
  const cluster = new Cluster();
  const voters = ["1", "2", "3"].map(nodeId);
  for (const id of NODES) {
    const confState = id === "4" ? EMPTY_CONF_STATE : { ...EMPTY_CONF_STATE, voters };
    cluster.add(nodeId(id), confState, {
      ...config,
      electionTimeoutTicks: 5,
      random: { nextInt: (max) => (Number(id) * 3) % max },
    });
  }
  const checker = new SafetyChecker();
  // Start from a settled group so that most schedules do real replication work.
  cluster.elect("1");
  let proposals = 0;
  const at = (index: number) => cluster.node(NODES[index] ?? "1");
  for (const step of actions) {
    switch (step.kind) {
      case "tick":
        for (let i = 0; i < step.count; i++) at(step.node).rawNode.tick();
        break;
      case "ready":
        cluster.handleReady(at(step.node).id);
        break;
      case "deliver":
      case "drop":
      case "duplicate": {
        if (cluster.queue.length === 0) break;
        const index = step.pick % cluster.queue.length;
        const message = cluster.queue[index];
        if (message === undefined) break;
        if (step.kind !== "duplicate") cluster.queue.splice(index, 1);
        if (step.kind !== "drop") cluster.deliver(message);
        break;
      }
      case "propose":
        at(step.node).rawNode.propose(encode(`p${proposals++}`));
        break;
      case "confChange": {
        const change = CHANGES[step.change];
        if (change !== undefined) at(step.node).rawNode.proposeConfChange(change);
        break;
      }
      case "compact":
        cluster.compact(at(step.node).id);
        break;
      case "restart":
        cluster.restart(at(step.node).id);
        break;
      case "campaign":
        at(step.node).rawNode.campaign();
        break;
      case "transfer":
        at(step.node).rawNode.transferLeadership(at(step.to).id);
        break;
      case "flush":
        cluster.stabilize();
        break;
    }
    checker.check(cluster);
  }
  // Heal everything and let the cluster settle: still safe.
  for (let round = 0; round < 30; round++) {
    for (const id of NODES) cluster.node(id).rawNode.tick();
    cluster.stabilize();
    checker.check(cluster);
  }
}

/** RAFT_RANDOM_RUNS=20000 for a longer local soak. */
const { RAFT_RANDOM_RUNS } = process.env;
const RUNS = Number(RAFT_RANDOM_RUNS ?? 300);

describe("randomized safety", () => {
  it(
    "holds under arbitrary schedules, faults, changes and crashes",
    () => {
      fc.assert(
        fc.property(
          fc.array(action, { minLength: 20, maxLength: 250 }),
          options,
          (actions, config) => {
            run(actions, config);
          },
        ),
        { numRuns: RUNS },
      );
    },
    // Generous: a loaded two-core machine took 23 s for the default 300 runs.
    Math.max(120_000, RUNS * 400),
  );
});
