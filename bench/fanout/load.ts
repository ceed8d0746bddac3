// The load: senders sending signed messages (as `send` frames on their own
// stream sockets, or over HTTP), receivers on
// WebSockets counting what arrives. Every loop is bounded by a message count
// and a deadline, so the benchmark always stops by itself.

import { ClientError, clientApiPath, type ParleyClient, StreamClient } from "@parley/cli/client";
import type { RoomId } from "@parley/protocol";
import { postJson } from "./poster.ts";

/** Receivers that parse every frame to time each message; the rest only count. */
const timedReceiversMax = 5;

export interface Receivers {
  readonly streams: readonly StreamClient[];
  /** Messages delivered, over all receivers. */
  delivered(): number;
  /** End-to-end latencies (send started → frame received) seen by the timed receivers. */
  readonly latenciesMs: number[];
  close(): Promise<void>;
}

/** Counts `"kind":"message"` in a frame without parsing it: load generators must stay cheap. */
function countMessages(text: string): number {
  let count = 0;
  let from = text.indexOf('"kind":"message"');
  while (from !== -1) {
    count += 1;
    from = text.indexOf('"kind":"message"', from + 16);
  }
  return count;
}

export async function connectReceivers(input: {
  baseUrl: string;
  tokens: readonly string[];
  sentAtMs: ReadonlyMap<string, number>;
}): Promise<Receivers> {
  let delivered = 0;
  const latenciesMs: number[] = [];
  const streams = await Promise.all(
    input.tokens.map((token, index) =>
      StreamClient.connect(input.baseUrl, token, {
        autoAcknowledge: true,
        keepEvents: false,
        ...(index >= timedReceiversMax
          ? {
              onEventsText: (text: string) => {
                delivered += countMessages(text);
              },
            }
          : {}),
        onFrame: (frame, receivedAtMs) => {
          if (frame.type !== "events") return;
          for (const event of frame.events) {
            if (event.kind !== "message" || event.clientId === null) continue;
            delivered += 1;
            const sentAt = input.sentAtMs.get(`${event.deviceId}/${event.clientId}`);
            if (sentAt !== undefined) latenciesMs.push(receivedAtMs - sentAt);
          }
        },
      }),
    ),
  );
  return {
    streams,
    delivered: () => delivered,
    latenciesMs,
    async close() {
      await Promise.all(streams.map((stream) => stream.close()));
    },
  };
}

export interface SendPlan {
  readonly senders: readonly ParleyClient[];
  /** One open stream per sender: messages go out as `send` frames; without, over HTTP. */
  readonly sockets?: readonly StreamClient[];
  readonly roomId: RoomId;
  /** Per sender. */
  readonly messagesMax: number;
  /** How long to send, counted after the envelopes are signed. */
  readonly durationMs: number;
  /** Requests in flight per sender (saturation), or a fixed rate per sender. */
  readonly pace: { readonly inFlight: number } | { readonly perSecond: number };
  readonly sentAtMs: Map<string, number>;
  readonly label: string;
}

/** Network failures (a reused keep-alive socket the server just closed) are
 * retried with the same envelope, as any client would: retries are idempotent. */
async function postWithRetries(sender: ParleyClient, url: URL, envelope: string): Promise<void> {
  const attemptsMax = 3;
  const body = `{"message":"${envelope}"}`;
  for (let attempt = 1; ; attempt += 1) {
    let status: number;
    try {
      status = await postJson(url, sender.accessToken ?? "", body);
    } catch (error) {
      if (attempt >= attemptsMax) throw error;
      continue;
    }
    if (status !== 200) throw new Error(`a message was refused with HTTP ${status}`);
    return;
  }
}

/** Sends a socket may have unanswered (the server's bound, protocol §10.8);
 * more wait here, as requests wait for a free socket in an HTTP agent. */
const sendsInFlightMax = 256;

/** Counts a socket's unanswered sends and queues the rest, first come first served. */
class SendGate {
  #free = sendsInFlightMax;
  readonly #waiting: Array<() => void> = [];

  async enter(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free += 1;
    else next();
  }
}

const gates = new WeakMap<StreamClient, SendGate>();

/** A `send` frame, retried with the same envelope when the server says to wait. */
async function sendWithRetries(socket: StreamClient, roomId: string, envelope: string) {
  const gate = gates.get(socket) ?? new SendGate();
  gates.set(socket, gate);
  const attemptsMax = 5;
  await gate.enter();
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await socket.sendMessage(roomId, envelope);
        return;
      } catch (error) {
        const waitMs = error instanceof ClientError ? error.retryAfterMs : undefined;
        if (waitMs === undefined || attempt >= attemptsMax) throw error;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  } finally {
    gate.leave();
  }
}

/** Runs the plan; resolves with how many messages were accepted and when sending started. */
export async function send(plan: SendPlan): Promise<{ accepted: number; startedAtMs: number }> {
  let accepted = 0;
  const body = "x".repeat(100);
  // Signed ahead of the timed run: the figures are the server's, not the client's signing.
  const envelopes = plan.senders.map((sender, senderIndex) =>
    Array.from({ length: plan.messagesMax }, (_, index) =>
      sender.signMessage(plan.roomId, body, { clientId: `${plan.label}-${senderIndex}-${index}` }),
    ),
  );
  const sendStartedAtMs = Date.now();
  const deadlineMs = sendStartedAtMs + plan.durationMs;
  await Promise.all(
    plan.senders.map(async (sender, senderIndex) => {
      let next = 0;
      const url = new URL(`${sender.baseUrl}${clientApiPath}/rooms/${plan.roomId}/messages`);
      const startedAtMs = performance.now();
      const socket = plan.sockets?.[senderIndex];
      const one = async (index: number) => {
        const clientId = `${plan.label}-${senderIndex}-${index}`;
        const envelope = envelopes[senderIndex]?.[index] ?? "";
        plan.sentAtMs.set(`${sender.device.deviceId}/${clientId}`, Date.now());
        if (socket === undefined) await postWithRetries(sender, url, envelope);
        else await sendWithRetries(socket, plan.roomId, envelope);
        accepted += 1;
      };
      if ("inFlight" in plan.pace) {
        const worker = async () => {
          while (next < plan.messagesMax && Date.now() < deadlineMs) {
            const index = next;
            next += 1;
            await one(index);
          }
        };
        await Promise.all(Array.from({ length: plan.pace.inFlight }, worker));
        return;
      }
      const intervalMs = 1000 / plan.pace.perSecond;
      const pending: Promise<void>[] = [];
      while (next < plan.messagesMax && Date.now() < deadlineMs) {
        const dueMs = startedAtMs + next * intervalMs;
        const waitMs = dueMs - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        pending.push(one(next));
        next += 1;
      }
      await Promise.all(pending);
    }),
  );
  return { accepted, startedAtMs: sendStartedAtMs };
}

/** Waits until `delivered()` reaches `expected` or the deadline passes; returns when it stopped. */
export async function drain(
  receivers: Receivers,
  expected: number,
  deadlineMs: number,
): Promise<number> {
  // Bounded by the deadline.
  while (receivers.delivered() < expected && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now();
}
