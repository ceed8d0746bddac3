// Figure (b): copies of one message per server. Every homeserver counts the
// federation frames it sends and receives by type on /metrics
// (`parley_federation_frame_types_total`); the frames that carry a message
// are a leaf's `submit` to its sponsor, `routed` between sponsors and to
// leaves, and `backfill-response` when a server repairs a gap. One message is
// sent by a user of the origin server; the counters are read on every server
// before and after (once every other server has received it, plus a quiet
// pause for late duplicates), and the differences are the copies.

import { pollUntil } from "@parley/server/testing";
import { type SharedRoom, userAt } from "./shared-room.ts";

const carryingTypes = ["submit", "routed", "backfill-response"] as const;
const settleTimeoutMs = 30_000;
/** After every server has one copy: long enough for a duplicate on its way to arrive. */
const quietPauseMs = 1_000;

interface Counts {
  readonly sent: number;
  readonly received: number;
}

export interface CopiesResult {
  readonly servers: number;
  readonly origin: number;
  /** Copies the origin server sent. */
  readonly originSent: number;
  /** Copies received, by server index (the origin's is 0). */
  readonly receivedByServer: readonly number[];
  /** Copies sent by all servers together. */
  readonly totalSent: number;
}

async function messageFrameCounts(url: string): Promise<Counts> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  let sent = 0;
  let received = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("parley_federation_frame_types_total{")) continue;
    const type = /type="([^"]+)"/.exec(line)?.[1];
    if (!carryingTypes.some((carrying) => carrying === type)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.includes('direction="out"')) sent += value;
    else received += value;
  }
  return { sent, received };
}

function allCounts(room: SharedRoom): Promise<Counts[]> {
  return Promise.all(room.cluster.servers.map((server) => messageFrameCounts(server.url)));
}

/** Sends one message from the user of server `origin` and counts its copies per server. */
export async function copiesOfOneMessage(room: SharedRoom, origin: number): Promise<CopiesResult> {
  const before = await allCounts(room);
  const sending = await userAt(room, origin).send(room.roomId, `copies from ${origin}`, {
    clientId: `copies-${origin}-${Date.now()}`,
  });
  await sending.settled();
  const received = (after: readonly Counts[]) =>
    after.map((counts, index) => counts.received - (before[index]?.received ?? 0));
  await pollUntil("every server received the message", settleTimeoutMs, async () => {
    const copies = received(await allCounts(room));
    return copies.every((count, index) => index === origin || count >= 1) ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, quietPauseMs));
  const after = await allCounts(room);
  const sent = after.map((counts, index) => counts.sent - (before[index]?.sent ?? 0));
  return {
    servers: after.length,
    origin,
    originSent: sent[origin] ?? 0,
    receivedByServer: received(after),
    totalSent: sent.reduce((sum, count) => sum + count, 0),
  };
}

/** "origin sent 1; received per server min 1 max 1 over 19; 19 copies in all (full mesh: 19 from the origin)". */
export function describeCopies(result: CopiesResult): string {
  const others = result.receivedByServer.filter((_, index) => index !== result.origin);
  const exactlyOnce = others.filter((count) => count === 1).length;
  return `origin server ${result.origin} sent ${result.originSent}; ${exactlyOnce} of ${others.length} other servers received exactly 1 (min ${Math.min(...others)}, max ${Math.max(...others)}); the origin got ${result.receivedByServer[result.origin] ?? 0} back; ${result.totalSent} copies sent by all servers; a full-mesh origin sends ${result.servers - 1}`;
}
