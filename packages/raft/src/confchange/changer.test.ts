import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJoint, type JointConfig, jointVoterIds } from "../quorum/joint.ts";
import {
  configToConfState,
  describeConfig,
  EMPTY_TRACKER_CONFIG,
  type TrackerConfig,
} from "../tracker/tracker.ts";
import { type ConfChange, type ConfChangeSingle, EMPTY_BYTES, nodeId } from "../types.ts";
import {
  applyConfChangeToConfig,
  ConfChangeError,
  configFromConfState,
  enterJoint,
  leaveJoint,
  simpleChange,
} from "./changer.ts";

const v = (id: string): ConfChangeSingle => ({ type: "addVoter", nodeId: nodeId(id) });
const l = (id: string): ConfChangeSingle => ({ type: "addLearner", nodeId: nodeId(id) });
const r = (id: string): ConfChangeSingle => ({ type: "removeNode", nodeId: nodeId(id) });

function build(...steps: ConfChangeSingle[][]): TrackerConfig {
  let config = EMPTY_TRACKER_CONFIG;
  for (const step of steps) config = simpleChange(config, step);
  return config;
}

describe("simple changes", () => {
  it("adds voters one at a time and refuses two at once", () => {
    const config = build([v("1")], [v("2")], [v("3")]);
    expect(describeConfig(config)).toBe("voters=(1 2 3)");
    expect(() => simpleChange(config, [v("4"), v("5")])).toThrow(ConfChangeError);
  });

  it("promotes a learner and demotes a voter", () => {
    let config = build([v("1")], [l("2")]);
    expect(describeConfig(config)).toBe("voters=(1) learners=(2)");
    config = simpleChange(config, [v("2")]);
    expect(describeConfig(config)).toBe("voters=(1 2)");
    config = simpleChange(config, [l("2")]);
    expect(describeConfig(config)).toBe("voters=(1) learners=(2)");
  });

  it("refuses to remove the last voter and to change a joint configuration", () => {
    const config = build([v("1")]);
    expect(() => simpleChange(config, [r("1")])).toThrow(/removed all voters/);
    const joint = enterJoint(build([v("1")], [v("2")]), true, [v("3"), r("1")]);
    expect(() => simpleChange(joint, [v("4")])).toThrow(/joint/);
  });

  it("is idempotent for repeated changes", () => {
    const config = build([v("1")], [v("2")]);
    expect(describeConfig(simpleChange(config, [v("2")]))).toBe("voters=(1 2)");
    expect(describeConfig(simpleChange(config, [r("9")]))).toBe("voters=(1 2)");
  });
});

describe("joint changes", () => {
  it("replaces a voter through a joint configuration", () => {
    const start = build([v("1")], [v("2")], [v("3")]);
    const joint = enterJoint(start, true, [v("4"), r("1")]);
    expect(describeConfig(joint)).toBe("voters=(2 3 4)&&(1 2 3) autoLeave");
    expect(() => enterJoint(joint, true, [v("5")])).toThrow(/already joint/);
    expect(describeConfig(leaveJoint(joint))).toBe("voters=(2 3 4)");
    expect(() => leaveJoint(start)).toThrow(/non-joint/);
  });

  it("keeps a demoted outgoing voter in learnersNext until leaving", () => {
    const start = build([v("1")], [v("2")], [v("3")]);
    const joint = enterJoint(start, false, [l("3"), v("4")]);
    expect(describeConfig(joint)).toBe("voters=(1 2 4)&&(1 2 3) learnersNext=(3)");
    expect(describeConfig(leaveJoint(joint))).toBe("voters=(1 2 4) learners=(3)");
  });

  it("chooses the transition from the change (ConfChangeV2 semantics)", () => {
    const start = build([v("1")], [v("2")], [v("3")]);
    const change = (transition: ConfChange["transition"], changes: ConfChangeSingle[]) => ({
      transition,
      changes,
      context: EMPTY_BYTES,
    });
    expect(isJoint(applyConfChangeToConfig(start, change("auto", [v("4")])).voters)).toBe(false);
    const auto = applyConfChangeToConfig(start, change("auto", [v("4"), r("1")]));
    expect(describeConfig(auto)).toBe("voters=(2 3 4)&&(1 2 3) autoLeave");
    const explicit = applyConfChangeToConfig(start, change("jointExplicit", [v("4")]));
    expect(describeConfig(explicit)).toBe("voters=(1 2 3 4)&&(1 2 3)");
    const left = applyConfChangeToConfig(explicit, change("auto", []));
    expect(describeConfig(left)).toBe("voters=(1 2 3 4)");
  });

  it("round-trips through ConfState", () => {
    const start = build([v("1")], [v("2")], [v("3")], [l("5")]);
    const joint = enterJoint(start, true, [l("3"), v("4")]);
    const restored = configFromConfState(configToConfState(joint));
    expect(describeConfig(restored)).toBe(describeConfig(joint));
    expect(() =>
      configFromConfState({
        voters: [nodeId("1")],
        votersOutgoing: [],
        learners: [nodeId("1")],
        learnersNext: [],
        autoLeave: false,
      }),
    ).toThrow(ConfChangeError);
  });
});

/** Brute force: does every quorum of `a` intersect every quorum of `b`? */
function quorumsIntersect(a: JointConfig, b: JointConfig): boolean {
  const universe = [...new Set([...jointVoterIds(a), ...jointVoterIds(b)])];
  const isQuorum = (config: JointConfig, subset: Set<string>) =>
    [config.incoming, config.outgoing].every(
      (half) => half.size === 0 || [...half].filter((id) => subset.has(id)).length * 2 > half.size,
    );
  for (let mask = 0; mask < 1 << universe.length; mask++) {
    const subset = new Set(universe.filter((_, i) => (mask & (1 << i)) !== 0));
    const complement = new Set(universe.filter((id) => !subset.has(id)));
    // Two disjoint quorums exist iff some set is a quorum of `a` while its complement is a quorum of `b`.
    if (isQuorum(a, subset) && isQuorum(b, complement)) return false;
  }
  return true;
}

describe("safety of any accepted change", () => {
  const ids = ["1", "2", "3", "4", "5", "6"];
  const single = fc.record({
    type: fc.constantFrom("addVoter" as const, "addLearner" as const, "removeNode" as const),
    nodeId: fc.constantFrom(...ids).map(nodeId),
  });
  const change = fc.record({
    transition: fc.constantFrom(
      "auto" as const,
      "jointImplicit" as const,
      "jointExplicit" as const,
    ),
    changes: fc.array(single, { maxLength: 4 }),
    context: fc.constant(EMPTY_BYTES),
  });

  it("never lets consecutive configurations have disjoint quorums", () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 12 }), (changes) => {
        let config = build([v("1")], [v("2")], [v("3")]);
        for (const proposed of changes) {
          let next: TrackerConfig;
          try {
            next = applyConfChangeToConfig(config, proposed);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfChangeError);
            continue;
          }
          expect(quorumsIntersect(config.voters, next.voters)).toBe(true);
          config = next;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("never lets a simple change of several singles produce disjoint quorums", () => {
    fc.assert(
      fc.property(fc.array(fc.array(single, { maxLength: 4 }), { maxLength: 12 }), (steps) => {
        let config = build([v("1")], [v("2")], [v("3")]);
        for (const step of steps) {
          let next: TrackerConfig;
          try {
            next = simpleChange(config, step);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfChangeError);
            continue;
          }
          expect(quorumsIntersect(config.voters, next.voters)).toBe(true);
          config = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
