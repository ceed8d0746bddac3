// Figure (a) of the federation benchmark: end-to-end latency from a leaf's
// user through a sponsor to another leaf's user, at a fixed rate, measured on
// the servers' path rather than on a client's: the envelopes are signed
// before the clock starts, several devices of the sending user share the
// rate and send `send` frames on their stream sockets (§10.8), and the
// receiving device is a bare stream socket that acknowledges as an app
// would. Latency is from handing a message to the sender's socket to its
// arrival in the receiver's `events` frame. A run whose senders fell short
// of 95% of the rate is reported as invalid rather than measured.

import { ClientError, newDevice, ParleyClient, StreamClient } from "@parley/cli/client";
import { pollUntil } from "@parley/server/testing";
import { percentile } from "../harness.ts";
import type { SharedRoom } from "./shared-room.ts";

const password = "correct horse battery staple";
const settleTimeoutMs = 60_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StreamLatencyResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sent: number;
  readonly received: number;
  readonly sentPerSecond: number;
  /** Sends the sender's server refused, by error code. */
  readonly refused: Readonly<Record<string, number>>;
  /** The senders reached at least 95% of the rate: the latency is the path's, not a backlog's. */
  readonly valid: boolean;
}

function serverAt(room: SharedRoom, index: number) {
  const server = room.cluster.servers[index];
  if (server === undefined) throw new Error(`no server ${index}`);
  return server;
}

/** A new device of `user<index>` on server `index`, logged in. */
async function deviceOf(room: SharedRoom, index: number): Promise<ParleyClient> {
  const server = serverAt(room, index);
  const client = new ParleyClient({
    baseUrl: server.url,
    serverName: server.serverName,
    device: newDevice(),
  });
  await client.login(`user${index}`, password);
  return client;
}

export async function streamLatency(
  room: SharedRoom,
  input: {
    readonly senderServer: number;
    readonly receiverServer: number;
    readonly senders: number;
    readonly perSecond: number;
    readonly durationMs: number;
  },
): Promise<StreamLatencyResult> {
  const total = Math.max(1, Math.round((input.perSecond * input.durationMs) / 1000));
  const prefix = `stream-latency-${Date.now()}-`;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const receiver = await deviceOf(room, input.receiverServer);
  const receiving = await StreamClient.connect(
    serverAt(room, input.receiverServer).url,
    receiver.accessToken ?? "",
    {
      autoAcknowledge: true,
      keepEvents: false,
      onFrame: (frame, receivedAtMs) => {
        if (frame.type !== "events") return;
        for (const event of frame.events) {
          const started = event.clientId === null ? undefined : sentAt.get(event.clientId);
          if (started === undefined || event.clientId === null) continue;
          latencies.push(receivedAtMs - started);
          sentAt.delete(event.clientId);
        }
      },
    },
  );
  const senders = await Promise.all(
    Array.from({ length: input.senders }, () => deviceOf(room, input.senderServer)),
  );
  const streams = await Promise.all(
    senders.map((sender) =>
      StreamClient.connect(serverAt(room, input.senderServer).url, sender.accessToken ?? "", {
        keepEvents: false,
        autoAcknowledge: true,
      }),
    ),
  );
  // Signed before the clock starts: signing is the client's cost, not the path's.
  const envelopes = Array.from({ length: total }, (_, number) => {
    const sender = senders[number % senders.length];
    if (sender === undefined) throw new Error("no sender");
    return sender.signMessage(room.roomId, `m${number}`, { clientId: `${prefix}${number}` });
  });
  const answers: Array<Promise<unknown>> = [];
  const refused: Record<string, number> = {};
  const refusal = (error: unknown) => {
    const code = error instanceof ClientError ? error.code : "no answer";
    refused[code] = (refused[code] ?? 0) + 1;
  };
  const start = Date.now();
  // Paced open loop: each message leaves at its slot whatever the answers do.
  for (let number = 0; number < total; ) {
    const due = Math.min(total, Math.floor(((Date.now() - start) * input.perSecond) / 1000) + 1);
    for (; number < due; number += 1) {
      const stream = streams[number % streams.length];
      const envelope = envelopes[number];
      if (stream === undefined || envelope === undefined) continue;
      sentAt.set(`${prefix}${number}`, Date.now());
      answers.push(stream.sendMessage(room.roomId, envelope).catch(refusal));
    }
    await pause(1);
  }
  const sendingMs = Date.now() - start;
  await Promise.allSettled(answers);
  await pollUntil("the receiver got every message", settleTimeoutMs, async () =>
    latencies.length >= total ? true : undefined,
  ).catch(() => undefined);
  await Promise.all([receiving.close(), ...streams.map((stream) => stream.close())]);
  const sentPerSecond = (total * 1000) / Math.max(1, sendingMs);
  return {
    p50Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 50),
    p99Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 99),
    sent: total,
    received: latencies.length,
    sentPerSecond,
    refused,
    valid: sentPerSecond >= 0.95 * input.perSecond,
  };
}
