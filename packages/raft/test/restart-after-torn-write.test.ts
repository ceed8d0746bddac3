/**
 * Regression (found by the simulator, seed 502021 at 7b9147f): a node that
 * loses power while persisting a Ready that installs a snapshot may keep the
 * snapshot but not the hard state written after it (the README's order is
 * snapshot, entries, hard state; only the sync makes them durable together).
 * Its stored commit index is then older than the snapshot. The commit index
 * is only a hint (Raft needs no durable commit index) and the snapshot is
 * committed by definition, so the node must restart, not fail an assertion
 * on every start.
 */
import { describe, expect, it } from "vitest";
import {
  type ConfState,
  MemoryStorage,
  nodeId,
  RaftAssertionError,
  RawNode,
} from "../src/index.ts";

const confState: ConfState = {
  voters: [nodeId("1"), nodeId("2"), nodeId("3")],
  votersOutgoing: [],
  learners: [nodeId("4")],
  learnersNext: [],
  autoLeave: false,
};

function restart(storage: MemoryStorage): RawNode {
  return new RawNode({ id: nodeId("4"), storage, random: { nextInt: () => 0 } });
}

describe("restarting from a torn write", () => {
  it("keeps the snapshot's commit when the stored commit index is older", () => {
    const storage = new MemoryStorage();
    // Saved by an earlier Ready: the term learned from the leader, nothing committed.
    storage.setHardState({ term: 3, vote: null, commit: 0 });
    // The snapshot of the next Ready reached the disk; its hard state did not.
    storage.applySnapshot({ metadata: { index: 8, term: 3, confState }, data: new Uint8Array() });
    const node = restart(storage);
    expect(node.status().hardState).toEqual({ term: 3, vote: null, commit: 8 });
    expect(node.status().applied).toBe(8);
  });

  it("still refuses a stored commit index beyond the stored log (entries were lost)", () => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ metadata: { index: 8, term: 3, confState }, data: new Uint8Array() });
    storage.setHardState({ term: 3, vote: null, commit: 9 });
    expect(() => restart(storage)).toThrow(RaftAssertionError);
  });
});
