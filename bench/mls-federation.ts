// mls-federation: the end-to-end latency of an encrypted message across
// three real homeserver processes on loopback, through the SDK. Servers 0
// and 1 sponsor the room, server 2 follows it as a leaf; the sender is the
// user of server 0 and the receivers are the users of servers 1 and 2. A
// message's latency is from the sender's `send` call (which encrypts it) to
// the receiver's SDK delivering its decrypted plaintext, so it includes MLS
// encryption and decryption. The three SDK clients run in this process and
// share its CPU with the measurement.

import { MemoryStore, ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import type { RoomId } from "@parley/protocol";
import { FederationCluster, pollUntil } from "@parley/server/testing";
import { type Benchmark, type Figure, percentile } from "./harness.ts";

const password = "correct horse battery staple";
const setupWaitMs = 60_000;
const settleWaitMs = 60_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Scale {
  readonly perSecond: number;
  readonly durationMs: number;
  /** Invitations timed, one commit each. */
  readonly commits: number;
}

const full: Scale = { perSecond: 20, durationMs: 10_000, commits: 20 };
const smoke: Scale = { perSecond: 20, durationMs: 300, commits: 2 };
/** How often the members' epochs are read while a commit travels. */
const epochPollMs = 2;

function progress(line: string): void {
  process.stderr.write(`mls-federation: ${line}\n`);
}

async function register(
  cluster: FederationCluster,
  index: number,
  userName = `user${index}`,
): Promise<ParleyClient> {
  const server = cluster.server(index);
  const client = await ParleyClient.register(
    { baseUrl: server.url, serverName: server.serverName, userName, password },
    nodeClientOptions({
      store: new MemoryStore(),
      encryption: { keyPackagesTarget: 4, keyPackagesRefillBelow: 2 },
    }),
  );
  await client.refillKeyPackages();
  await client.start();
  return client;
}

/** Invites `invitee`, waits until its device joined the group from the Welcome, then joins. */
async function bringIn(inviter: ParleyClient, invitee: ParleyClient, roomId: RoomId) {
  await inviter.invite(roomId, invitee.userId);
  await pollUntil(`${invitee.userId} joins the group`, setupWaitMs, async () =>
    (await invitee.encryptionEpoch(roomId)) === undefined ? undefined : true,
  );
  await invitee.join(roomId);
}

/** The sender's messages, paced at `perSecond`; each latency until every receiver decrypted it. */
async function measure(
  sender: ParleyClient,
  receivers: readonly ParleyClient[],
  roomId: RoomId,
  scale: Scale,
): Promise<{ latencies: number[][]; sent: number; sentPerSecond: number; failed: number }> {
  const sentAt = new Map<string, number>();
  const latencies = receivers.map(() => [] as number[]);
  let failed = 0;
  const stops = receivers.map((receiver, index) =>
    receiver.onEvent((event) => {
      if (event.type === "undecryptable") failed += 1;
      if (event.type !== "message" || event.roomId !== roomId || event.text === undefined) return;
      const started = sentAt.get(event.text);
      if (started !== undefined) latencies[index]?.push(performance.now() - started);
    }),
  );
  const total = Math.max(1, Math.round((scale.perSecond * scale.durationMs) / 1000));
  const sends: Array<Promise<unknown>> = [];
  const start = performance.now();
  for (let number = 0; number < total; ) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - start) * scale.perSecond) / 1000) + 1,
    );
    for (; number < due; number += 1) {
      const text = `encrypted ${number}`;
      sentAt.set(text, performance.now());
      sends.push(sender.send(roomId, text).then((outgoing) => outgoing.settled()));
    }
    await pause(1);
  }
  const sendingMs = performance.now() - start;
  await Promise.allSettled(sends);
  await pollUntil("every receiver decrypted every message", settleWaitMs, async () =>
    latencies.every((list) => list.length >= total) ? true : undefined,
  ).catch(() => undefined);
  for (const stop of stops) stop();
  return { latencies, sent: total, sentPerSecond: (total * 1000) / sendingMs, failed };
}

/**
 * Invitations of fresh users of the leaf server, one at a time: for each, the
 * time the inviter's `invite` takes (the commit made, checked by a sponsor,
 * ordered and applied) and the time until every member's SDK has processed
 * it, which includes each member fetching and checking the sponsors'
 * certificate of the commit's entry (docs/protocol.md §10.13).
 */
async function measureCommits(
  cluster: FederationCluster,
  inviter: ParleyClient,
  members: readonly ParleyClient[],
  roomId: RoomId,
  rounds: number,
): Promise<{ ordered: number[]; processed: number[] }> {
  const ordered: number[] = [];
  const processed: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const invitee = await register(cluster, 2, `invitee${round}`);
    try {
      const before = await inviter.encryptionEpoch(roomId);
      if (before === undefined) throw new Error("the inviter is not in the group");
      const started = performance.now();
      await inviter.invite(roomId, invitee.userId);
      ordered.push(performance.now() - started);
      const deadline = started + settleWaitMs;
      for (;;) {
        const epochs = await Promise.all(members.map((member) => member.encryptionEpoch(roomId)));
        if (epochs.every((epoch) => epoch !== undefined && epoch > before)) break;
        if (performance.now() > deadline) throw new Error(`round ${round}: members at ${epochs}`);
        await pause(epochPollMs);
      }
      processed.push(performance.now() - started);
    } finally {
      await invitee.stop();
    }
  }
  return { ordered, processed };
}

export const mlsFederationBenchmark: Benchmark = {
  name: "mls-federation",
  description:
    "3 homeserver processes (2 sponsors + 1 leaf), an encrypted room: sender on server 0, latency until the users of servers 1 and 2 decrypt, at 20 msg/s; then invite commits until every member processed them",
  async run(options) {
    const scale = options.smoke ? smoke : full;
    const cluster = await FederationCluster.start({
      size: 3,
      proxies: false,
      environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "20", PARLEY_LOG_LEVEL: "warn" },
    });
    const users: ParleyClient[] = [];
    try {
      for (const index of [0, 1, 2]) users.push(await register(cluster, index));
      const [sender, sponsorUser, leafUser] = users;
      if (sender === undefined || sponsorUser === undefined || leafUser === undefined) {
        throw new Error("three users expected");
      }
      const { roomId } = await sender.createRoom({
        name: "encrypted bench",
        kind: "encrypted",
        joinRule: "invite",
      });
      await bringIn(sender, sponsorUser, roomId);
      await sender.act(roomId, {
        type: "set-sponsor-policy",
        sponsorPolicy: { mode: "fixed", sponsorsMax: 2 },
      });
      await bringIn(sender, leafUser, roomId);
      const roles = await Promise.all([0, 1, 2].map((index) => cluster.status(index, roomId)));
      progress(`roles: ${roles.map((status) => status.role).join(", ")}`);
      if (roles[2]?.role !== "leaf") throw new Error("server 2 should follow the room as a leaf");
      await pollUntil("all in the same epoch", setupWaitMs, async () => {
        const epochs = await Promise.all(users.map((user) => user.encryptionEpoch(roomId)));
        return epochs.every((epoch) => epoch !== undefined && epoch === epochs[0])
          ? true
          : undefined;
      });
      const result = await measure(sender, [sponsorUser, leafUser], roomId, scale);
      progress(
        `${result.sent} sent; received ${result.latencies.map((list) => list.length).join(", ")}`,
      );
      const rate = `at ${scale.perSecond} msg/s target (${Math.round(result.sentPerSecond)} reached)`;
      const figures: Figure[] = [];
      for (const [index, name] of ["sponsor", "leaf"].entries()) {
        const list = result.latencies[index] ?? [];
        const received = `${list.length}/${result.sent} decrypted, ${result.failed} undecryptable`;
        figures.push(
          {
            name: `encrypted message → ${name} (server ${index + 1}) latency p50`,
            value: list.length === 0 ? Number.NaN : percentile(list, 50),
            unit: "ms",
            note: `${rate}, ${received}`,
          },
          {
            name: `encrypted message → ${name} (server ${index + 1}) latency p99`,
            value: list.length === 0 ? Number.NaN : percentile(list, 99),
            unit: "ms",
          },
        );
      }
      const commits = await measureCommits(cluster, sender, users, roomId, scale.commits);
      const note = `${scale.commits} invitations of a user of the leaf, one commit each, 3 members before`;
      figures.push(
        {
          name: "invite commit ordered (invite call) p50",
          value: percentile(commits.ordered, 50),
          unit: "ms",
          note,
        },
        {
          name: "invite commit ordered (invite call) p99",
          value: percentile(commits.ordered, 99),
          unit: "ms",
        },
        {
          name: "invite commit processed by every member p50",
          value: percentile(commits.processed, 50),
          unit: "ms",
          note: "from the invite call; each member checks the sponsors' certificate first",
        },
        {
          name: "invite commit processed by every member p99",
          value: percentile(commits.processed, 99),
          unit: "ms",
        },
      );
      return figures;
    } finally {
      await Promise.allSettled(users.map((user) => user.stop()));
      await cluster.dispose();
    }
  },
};
