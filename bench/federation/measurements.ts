// The federation benchmark's measurements on a shared room (shared-room.ts):
// control-lane state changes per second, and the time until the room accepts
// a state change again after its Raft leader is killed (latency is in
// stream-latency.ts). Every loop is bounded by a
// count or a deadline.

import type { ParleyClient } from "@parley/client";
import { pollUntil } from "@parley/server/testing";
import { median } from "../harness.ts";
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
