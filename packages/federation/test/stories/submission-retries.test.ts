/**
 * A leaf's unanswered message submission (§12.7): it is repeated after
 * `submissionRetryTicks`, then after twice as long each time up to eight
 * times that, and given up as timed out `submissionTimeoutTicks` after it
 * was sent. Under load a fixed short period sent every waiting submission
 * again each period, feeding the backlog that delayed the answers. A new
 * sponsor (failover) gets the submission at once.
 */
import type { RoomId, UserId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import type { FederationEffects } from "../../src/host/effects.ts";
import { defaultHostTiming } from "../../src/host/host-context.ts";
import { isConverged } from "../../src/simulation/end-checks.ts";
import { createWorld, runUntil, setUp } from "../../src/simulation/run-seed.ts";

function settledLeaf() {
  const world = createWorld(11, { sponsorCount: 3, leafCount: 1 });
  expect(setUp(world)).toBe(true);
  expect(runUntil(world, () => isConverged(world), 10_000, 250)).toBe(true);
  const room = world.room as RoomId;
  const leaf = world.servers[3];
  const host = leaf?.host;
  const session = host?.session(room);
  if (host === undefined || host === null || session === undefined) throw new Error("set up");
  expect(session.isSponsor).toBe(false);
  const sender = [...(session.replica.state?.members.keys() ?? [])].find((user) =>
    user.endsWith(`@${leaf?.name}`),
  ) as UserId | undefined;
  if (sender === undefined) throw new Error("a user of the leaf in the room");
  return { host, room, sender, session };
}

const submitsIn = (effects: FederationEffects) =>
  effects.frames.filter((frame) => frame.frame.type === "submit");

describe("a leaf's message submission without an answer", () => {
  it("is repeated with doubling gaps, then reported timed out", () => {
    const { host, room, sender } = settledLeaf();
    const sent = host.sendMessage(room, sender, "backoff-1", new Uint8Array([1]), 9_001);
    expect(submitsIn(sent)).toHaveLength(1);
    const repeatedAtTicks: number[] = [];
    let timedOutAtTick: number | null = null;
    const { submissionRetryTicks, submissionTimeoutTicks } = defaultHostTiming;
    for (let tick = 1; tick <= submissionTimeoutTicks + 5; tick += 1) {
      const effects = host.tick();
      if (submitsIn(effects).length > 0) repeatedAtTicks.push(tick);
      const result = effects.events.find(
        (event) => event.type === "submission-result" && event.requestId === 9_001,
      );
      if (result !== undefined && timedOutAtTick === null) {
        expect(result).toMatchObject({ outcome: { kind: "timed-out" } });
        timedOutAtTick = tick;
      }
    }
    const gaps = repeatedAtTicks.map((tick, index) => tick - (repeatedAtTicks[index - 1] ?? 0));
    const retry = submissionRetryTicks;
    expect(gaps.slice(0, 4)).toEqual([retry, 2 * retry, 4 * retry, 8 * retry]);
    expect(gaps.slice(4).every((gap) => gap === 8 * retry)).toBe(true);
    expect(timedOutAtTick).toBe(submissionTimeoutTicks);
  });

  it("goes to a new sponsor at once when the leaf fails over", () => {
    const { host, room, sender, session } = settledLeaf();
    host.sendMessage(room, sender, "failover-1", new Uint8Array([1]), 9_002);
    const first = session.attachment.sponsor;
    if (first === null) throw new Error("attached");
    const linkDown = host.linkDown(first);
    const afterTick = host.tick();
    const moved = session.attachment.sponsor;
    expect(moved).not.toBe(first);
    expect(moved).not.toBeNull();
    const resent = [...submitsIn(linkDown), ...submitsIn(afterTick)];
    expect(resent.map((frame) => frame.to)).toContain(moved);
  });
});
