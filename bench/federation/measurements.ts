// The federation benchmark's measurements on a shared room (shared-room.ts):
// end-to-end latency leaf → sponsor → leaf at a fixed rate, control-lane
// state changes per second, and the time until the room accepts a state
// change again after its Raft leader is killed. Every loop is bounded by a
// count or a deadline.

import type { ParleyClient } from "@parley/client";
import { pollUntil } from "@parley/server/testing";
import { median, percentile } from "../harness.ts";
import { type SharedRoom, userAt } from "./shared-room.ts";

const settleTimeoutMs = 60_000;
const requestTimeoutMs = 10_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `work`, or a rejection after `timeoutMs`: no single request may hold a bounded loop. */
function within<Value>(work: Promise<Value>, timeoutMs: number): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Progress on stderr, so a slow phase shows where it is. */
function progress(line: string): void {
  process.stderr.write(`federation: ${line}\n`);
}

export interface LatencyResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sent: number;
  readonly received: number;
  /** The send rate actually reached (the target may be more than one client can post). */
  readonly sentPerSecond: number;
}

/** `sender` posts `perSecond` messages for `durationMs`; latency is until `receiver`'s stream delivers each. */
export async function endToEndLatency(
  room: SharedRoom,
  sender: ParleyClient,
  receiver: ParleyClient,
  input: { readonly perSecond: number; readonly durationMs: number },
): Promise<LatencyResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const stop = receiver.on("message", (event) => {
    const started = sentAt.get(event.clientId);
    if (started !== undefined && event.sender === sender.userId) {
      latencies.push(performance.now() - started);
      sentAt.delete(event.clientId);
    }
  });
  const total = Math.max(1, Math.round((input.perSecond * input.durationMs) / 1000));
  const start = performance.now();
  const sends: Array<Promise<unknown>> = [];
  // Paced: each message leaves at its slot; a late loop sends what is due at once.
  for (let number = 0; number < total; ) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - start) * input.perSecond) / 1000) + 1,
    );
    for (; number < due; number += 1) {
      const clientId = `latency-${number}`;
      sentAt.set(clientId, performance.now());
      sends.push(sender.send(room.roomId, `m${number}`, { clientId }).then((out) => out.settled()));
    }
    await pause(1);
  }
  const sendingMs = performance.now() - start;
  progress(`latency: ${total} sent in ${Math.round(sendingMs)} ms`);
  await within(Promise.allSettled(sends), settleTimeoutMs).catch(() => undefined);
  await pollUntil("the receiver got every message", settleTimeoutMs, async () =>
    latencies.length >= total ? true : undefined,
  ).catch(() => undefined);
  stop();
  progress(`latency: ${latencies.length} of ${total} received`);
  return {
    p50Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 50),
    p99Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 99),
    sent: total,
    received: latencies.length,
    sentPerSecond: (total * 1000) / sendingMs,
  };
}

/** Topic changes committed per second by `writers` concurrent loops on each sponsor's user. */
export async function controlChangesPerSecond(
  room: SharedRoom,
  sponsors: readonly number[],
  input: { readonly writersPerUser: number; readonly durationMs: number },
): Promise<{ readonly committedPerSecond: number; readonly refused: number }> {
  let committed = 0;
  let refused = 0;
  const deadline = performance.now() + input.durationMs;
  const start = performance.now();
  const writer = async (user: ParleyClient, name: string) => {
    for (let number = 0; performance.now() < deadline; number += 1) {
      try {
        await within(user.setTopic(room.roomId, `${name} ${number}`), requestTimeoutMs);
        committed += 1;
      } catch {
        refused += 1;
      }
    }
  };
  await Promise.all(
    sponsors.flatMap((index) =>
      Array.from({ length: input.writersPerUser }, (_, writerNumber) =>
        writer(userAt(room, index), `topic ${index}.${writerNumber}`),
      ),
    ),
  );
  progress(`control: ${committed} committed, ${refused} refused`);
  return { committedPerSecond: (committed * 1000) / (performance.now() - start), refused };
}

/**
 * Kills the room's Raft leader (SIGKILL) and times until a topic change
 * through another sponsor commits; restarts the killed server and waits
 * until it caught up before the next round. Returns each round's time.
 */
export async function failoverTimes(
  room: SharedRoom,
  sponsors: readonly number[],
  rounds: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const leader = await room.cluster.leader(room.roomId, sponsors, settleTimeoutMs);
    const survivor = sponsors.find((index) => index !== leader) ?? 0;
    const user = userAt(room, survivor);
    const killedAt = performance.now();
    await room.cluster.server(leader).kill();
    await pollUntil("a state change commits after the kill", settleTimeoutMs, async () => {
      try {
        await within(user.setTopic(room.roomId, `after kill ${round}`), requestTimeoutMs);
        return true;
      } catch {
        await pause(10);
        return undefined;
      }
    });
    times.push(performance.now() - killedAt);
    progress(`failover round ${round}: ${Math.round(times.at(-1) ?? 0)} ms`);
    await room.cluster.server(leader).restart();
    const target = (await room.cluster.status(survivor, room.roomId)).appliedIndex;
    await pollUntil("the restarted sponsor caught up", settleTimeoutMs, async () =>
      (await room.cluster.status(leader, room.roomId)).appliedIndex >= target ? true : undefined,
    );
  }
  return times;
}

export { median };
