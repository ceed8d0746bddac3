// Five homeserver processes on loopback sharing one room: servers 0, 1 and 2
// sponsor it (one Raft group), 3 and 4 follow it as leaves; one SDK user on
// each sends a bounded stream of messages throughout. Under that load the
// Raft leader's process is killed with SIGKILL and restarted, then the
// federation is split 2|3 by cutting the TCP proxies between the sides (the
// leader and a leaf on the small side), both sides change state (only the
// majority may commit), and the split heals. Then: every acknowledged
// message reached every user exactly once (live stream and history), the
// state changed only as the majority said, and every server holds the same
// state and the same messages, each sponsor's users' messages with the same
// stamps everywhere and stamped in their send order.
//
// Not yet compared: one history order across servers (the route pages by
// local arrival until the spec's order of §12.4.3 is served; this test saw a
// restarted sponsor's backfilled messages arrive after its newer ones).

import type { RoomId } from "@parley/protocol";
import { FederationCluster, pollUntil } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoomUser } from "./room-users.ts";

const sponsors = [0, 1, 2];
const leaves = [3, 4];
const sendIntervalMs = 40;
/** Per user; at the interval above the load phases end long before this. */
const messagesPerUserMax = 2_000;
const phaseMs = 1_500;
const electionTimeoutMs = 60_000;
const convergenceTimeoutMs = 120_000;

let cluster: FederationCluster | undefined;
const users: RoomUser[] = [];

function started(): FederationCluster {
  if (cluster === undefined) throw new Error("the cluster did not start");
  return cluster;
}

function user(index: number): RoomUser {
  const found = users[index];
  if (found === undefined) throw new Error(`no user ${index}`);
  return found;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  cluster = await FederationCluster.start({
    size: 5,
    proxies: true,
    environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "50", PARLEY_LOG_LEVEL: "warn" },
  });
  for (const [index, server] of cluster.servers.entries()) {
    users.push(await RoomUser.register(server, `user${index}`));
  }
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(users.map((each) => each.client.stop()));
  await cluster?.dispose();
});

/** The room: 0 creates it, invites 1 and 2 (their servers become sponsors), fixes the set, invites 3 and 4. */
async function makeRoom(): Promise<RoomId> {
  const creator = user(0).client;
  const { roomId } = await creator.createRoom({ name: "five", joinRule: "invite" });
  for (const index of [1, 2]) {
    await creator.invite(roomId, user(index).client.userId);
    await user(index).joinWhenInvited(roomId);
  }
  // The sponsors' users may change the topic, so either side of a split can try.
  for (const index of [1, 2]) {
    await creator.setRole(roomId, user(index).client.userId, "moderator");
  }
  await creator.act(roomId, {
    type: "set-sponsor-policy",
    sponsorPolicy: { mode: "fixed", sponsorsMax: 7 },
  });
  for (const index of leaves) {
    await creator.invite(roomId, user(index).client.userId);
    await user(index).joinWhenInvited(roomId);
  }
  const names = started().names;
  const sponsorNames = sponsors.map((index) => names[index]).sort();
  for (const index of [...sponsors, ...leaves]) {
    await pollUntil(`server ${index} sees three sponsors`, electionTimeoutMs, async () => {
      const status = await started().status(index, roomId);
      const settled =
        JSON.stringify([...status.sponsors].sort()) === JSON.stringify(sponsorNames) &&
        (sponsors.includes(index) ? status.role === "sponsor" : status.attachedTo !== null);
      return settled ? true : undefined;
    });
  }
  return roomId;
}

describe("five homeserver processes: kill -9 of the leader, a 2|3 partition, heal", () => {
  it("delivers every acknowledged message exactly once everywhere and converges", {
    timeout: 420_000,
  }, async () => {
    const federation = started();
    const timeline: string[] = [];
    const mark = (what: string) => timeline.push(`${what} at ${Date.now()}`);
    const roomId = await makeRoom();
    const before = await user(0).client.roomState(roomId);
    for (const each of users) each.startSending(roomId, sendIntervalMs, messagesPerUserMax);
    await pause(phaseMs);

    // kill -9 the Raft leader; the other two sponsors elect a new one.
    const firstLeader = await federation.leader(roomId, sponsors, electionTimeoutMs);
    await federation.server(firstLeader).kill();
    mark(`killed ${firstLeader}`);
    const others = sponsors.filter((index) => index !== firstLeader);
    const secondLeader = await federation.leader(roomId, others, electionTimeoutMs);
    expect(secondLeader).not.toBe(firstLeader);
    await pause(phaseMs);
    await federation.server(firstLeader).restart();
    mark("restarted");
    const leaderNow = await federation.leader(roomId, sponsors, electionTimeoutMs);
    await pollUntil("the restarted sponsor catches up", electionTimeoutMs, async () => {
      const [restarted, leading] = await Promise.all([
        federation.status(firstLeader, roomId),
        federation.status(leaderNow, roomId),
      ]);
      return restarted.appliedIndex >= leading.appliedIndex ? true : undefined;
    });
    await pause(phaseMs);

    // Split 2|3: the current leader and one leaf alone on the small side.
    const oldLeader = await federation.leader(roomId, sponsors, electionTimeoutMs);
    const minority = [oldLeader, 3];
    const majority = [0, 1, 2, 3, 4].filter((index) => !minority.includes(index));
    const majoritySponsors = sponsors.filter((index) => index !== oldLeader);
    federation.partition(minority);
    mark(`split off ${minority.join(",")}`);
    const newLeader = await federation.leader(roomId, majoritySponsors, electionTimeoutMs);
    expect(minority).not.toContain(newLeader);

    // Both sides try a state change; only the majority's may commit.
    const majorityTopic = "set by the majority during the split";
    const minorityTopic = "set by the minority during the split";
    await user(newLeader).client.setTopic(roomId, majorityTopic);
    const minorityAttempt = await Promise.race([
      user(oldLeader)
        .client.setTopic(roomId, minorityTopic)
        .then(
          () => "committed",
          () => "refused",
        ),
      pause(20_000).then(() => "no answer"),
    ]);
    expect(minorityAttempt).not.toBe("committed");
    for (const index of majority) {
      await pollUntil(`server ${index} sees the majority's topic`, electionTimeoutMs, async () =>
        (await user(index).client.roomState(roomId)).topic === majorityTopic ? true : undefined,
      );
    }
    for (const index of minority) {
      const state = await user(index).client.roomState(roomId);
      expect(state.topic).toBe(before.topic);
      expect(state.name).toBe(before.name);
    }
    await pause(phaseMs);

    federation.heal();
    mark("healed");
    await pause(phaseMs);
    await Promise.all(users.map((each) => each.stopSending()));

    // Everything converges: the same state and the same messages everywhere.
    const acknowledged = users.flatMap((each) => each.acknowledged.map((id) => each.keyOf(id)));
    for (const each of users) expect(each.acknowledged.length).toBeGreaterThan(10);
    const histories = await pollUntil(
      "every server holds every message",
      convergenceTimeoutMs,
      async () => {
        const all = await Promise.all(users.map((each) => each.history(roomId)));
        const sets = all.map((held) => JSON.stringify(held.map(({ key }) => key).sort()));
        const complete = all.every((held) => {
          const keys = new Set(held.map(({ key }) => key));
          return acknowledged.every((key) => keys.has(key));
        });
        return complete && sets.every((set) => set === sets[0]) ? all : undefined;
      },
    );
    // Exactly once on every server. A sponsor's users' messages carry the
    // same stamp everywhere. A leaf's message is not compared: when a leaf
    // resubmits to another sponsor (its sponsor died, or answered too late),
    // both sponsors may stamp it, and each server shows the copy that reached
    // it first (seen here: the same client id stamped 157 ms apart by two
    // sponsors). Which copy wins belongs to the spec's history order (§12.4.3).
    const sponsorUsers = new Set(sponsors.map((index) => user(index).client.userId as string));
    const stamps = new Map<string, string>();
    for (const held of histories) {
      expect(new Set(held.map(({ key }) => key)).size).toBe(held.length);
      for (const { key, controlIndex, acceptedAtMs } of held) {
        if (!sponsorUsers.has(key.split(" ")[0] ?? "")) continue;
        const stamp = `${controlIndex} ${acceptedAtMs}`;
        const where = histories.map((each) => each.find((one) => one.key === key));
        expect(
          stamps.get(key) ?? stamp,
          `the stamp of ${key} on each server: ${JSON.stringify(where)}; ${timeline.join(", ")}`,
        ).toBe(stamp);
        stamps.set(key, stamp);
      }
    }
    // A sponsor's users' messages are stamped by that sponsor (one origin):
    // in the spec's order (control index, then acceptance time) they are in
    // the order they were sent. The route pages by arrival, which a backfill
    // after a restart or a split may reorder, so the order is not read from it.
    for (const sender of sponsors.map(user)) {
      const sent = sender.acknowledged.map((id) => sender.keyOf(id));
      const mine = new Set(sent);
      for (const held of histories) {
        const ordered = held
          .filter(({ key }) => mine.has(key))
          .sort((a, b) => a.controlIndex - b.controlIndex || a.acceptedAtMs - b.acceptedAtMs);
        expect(ordered.map(({ key }) => key)).toEqual(sent);
      }
    }
    // The live streams delivered each acknowledged message exactly once.
    for (const receiver of users) {
      await pollUntil(`${receiver.label} streamed every message`, convergenceTimeoutMs, async () =>
        acknowledged.every((key) => receiver.received.has(key)) ? true : undefined,
      );
      for (const key of acknowledged) expect(receiver.received.get(key)).toBe(1);
      for (const count of receiver.received.values()) expect(count).toBe(1);
      expect(receiver.missed).toBe(0);
    }
    // The state: the majority's topic, never the minority's, the same everywhere.
    let lastStates: string[] = [];
    const states = await pollUntil(
      () => `every server has the same state; last seen:\n${lastStates.join("\n")}`,
      convergenceTimeoutMs,
      async () => {
        const all = await Promise.all(users.map((each) => each.client.roomState(roomId)));
        // membership and role are the asking user's own, not the room's.
        lastStates = all.map(({ membership: _, role: __, ...room }) => JSON.stringify(room));
        return lastStates.every((state) => state === lastStates[0]) ? all : undefined;
      },
    );
    for (const state of states) {
      expect(state.topic).toBe(majorityTopic);
      expect(state.name).toBe(before.name);
    }
    const statuses = await Promise.all(
      [0, 1, 2, 3, 4].map((index) => federation.status(index, roomId)),
    );
    const applied = new Set(statuses.map((status) => status.appliedIndex));
    expect(applied.size).toBe(1);
  });
});
