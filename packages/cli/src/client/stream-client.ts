// The client side of the live stream: opens the WebSocket, authenticates with
// the first frame, and collects what the server pushes. With `autoAcknowledge`
// it acknowledges every events frame's `through` and every queue item, as an
// app would once it has stored them.

import type {
  AcceptedMessageJson,
  DeliveryItemJson,
  EventJson,
  QueueItemJson,
  ServerFrame,
} from "@parley/protocol";
import WebSocket from "ws";
import { ClientError, clientApiPath } from "./http-client.ts";

export interface StreamClose {
  readonly code: number;
  readonly reason: string;
}

export interface StreamOptions {
  /**
   * Acknowledge what arrives, as an app would once it has stored it: stream
   * positions at most every `acknowledgeEveryMs` (coalesced, so a busy stream
   * costs the server one small frame per interval, not one per frame), queue
   * items at once.
   */
  readonly autoAcknowledge?: boolean;
  readonly acknowledgeEveryMs?: number;
  /** Called with every frame as it arrives (tests and benchmarks count or time them). */
  readonly onFrame?: (frame: ServerFrame, receivedAtMs: number) => void;
  /** Keep received events in `events` (off for load generators). */
  readonly keepEvents?: boolean;
  /**
   * For load generators: events frames are handed over as text, unparsed
   * (only `through` is read, for acknowledging). `onFrame` still sees the rest.
   */
  readonly onEventsText?: (text: string, receivedAtMs: number) => void;
}

const eventsFramePrefix = '{"type":"events","through":';

export class StreamClient {
  readonly socket: WebSocket;
  readonly events: EventJson[] = [];
  readonly queueItems: QueueItemJson[] = [];
  readonly missed: Array<Extract<ServerFrame, { type: "missed" }>> = [];
  /** Delivery counts of this user's messages (§10.14), in arrival order. */
  readonly deliveries: DeliveryItemJson[] = [];
  readonly closed: Promise<StreamClose>;
  through = 0;
  #waiters: Array<() => void> = [];
  readonly #sends = new Map<
    string,
    { resolve: (answer: AcceptedMessageJson) => void; reject: (error: unknown) => void }
  >();
  #nextSendId = 1;
  #acknowledgeTimer: NodeJS.Timeout | undefined;
  readonly #autoAcknowledge: boolean;

  private constructor(socket: WebSocket, options: StreamOptions) {
    this.socket = socket;
    this.#autoAcknowledge = options.autoAcknowledge === true;
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString("utf8") });
        for (const pending of this.#sends.values()) {
          pending.reject(new Error(`the stream closed (${code}) before the send was answered`));
        }
        this.#sends.clear();
        this.#wake();
      });
    });
    socket.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      if (options.onEventsText !== undefined && text.startsWith(eventsFramePrefix)) {
        this.through = Number.parseInt(text.slice(eventsFramePrefix.length), 10);
        if (options.autoAcknowledge === true) this.#acknowledgeSoon(options);
        options.onEventsText(text, Date.now());
        return;
      }
      const frame = JSON.parse(text) as ServerFrame;
      options.onFrame?.(frame, Date.now());
      this.#receive(frame, options);
      this.#wake();
    });
  }

  /** Connects and authenticates; resolves with the client once the `ready` frame arrived. */
  static connect(
    baseUrl: string,
    token: string,
    options: StreamOptions = {},
  ): Promise<StreamClient> {
    const url = `${baseUrl.replace(/^http/, "ws")}${clientApiPath}/stream`;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const client = new StreamClient(socket, options);
    return new Promise((resolve, reject) => {
      socket.once("open", () => socket.send(JSON.stringify({ type: "auth", token })));
      socket.once("error", reject);
      const onFirst = (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as ServerFrame;
        if (frame.type === "ready") resolve(client);
      };
      socket.once("message", onFirst);
      void client.closed.then((close) =>
        reject(new Error(`stream closed before ready: ${close.code} ${close.reason}`)),
      );
    });
  }

  acknowledge(input: { stream?: number; queue?: number }): void {
    this.socket.send(JSON.stringify({ type: "ack", ...input }));
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /**
   * Sends a signed message envelope on the socket (a `send` frame) and
   * resolves with the server's answer, as POST /rooms/{roomId}/messages would;
   * a refusal rejects with ClientError. Sending the same envelope again is
   * safe: the server answers the stored message with `duplicate: true`.
   */
  sendMessage(roomId: string, envelope: string, id?: string): Promise<AcceptedMessageJson> {
    const frameId = id ?? `send-${this.#nextSendId}`;
    this.#nextSendId += 1;
    return new Promise((resolve, reject) => {
      this.#sends.set(frameId, { resolve, reject });
      this.send(`{"type":"send","id":"${frameId}","roomId":"${roomId}","message":"${envelope}"}`);
    });
  }

  /** Resolves when `condition` holds, checked after every frame; rejects after `timeoutMs`. */
  async waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting on the stream");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<StreamClose> {
    clearTimeout(this.#acknowledgeTimer);
    // What arrived was processed: say so before leaving, so a reconnect resumes after it.
    if (this.#autoAcknowledge && this.socket.readyState === WebSocket.OPEN && this.through > 0) {
      this.acknowledge({ stream: this.through });
    }
    this.socket.close(1000, "bye");
    return this.closed;
  }

  #receive(frame: ServerFrame, options: StreamOptions): void {
    if (frame.type === "sent" || frame.type === "error") {
      const pending = this.#sends.get(frame.id);
      this.#sends.delete(frame.id);
      if (frame.type === "sent") pending?.resolve(frame);
      else pending?.reject(new ClientError(0, frame));
    } else if (frame.type === "events") {
      if (options.keepEvents !== false) this.events.push(...frame.events);
      this.through = frame.through;
      if (options.autoAcknowledge === true) this.#acknowledgeSoon(options);
    } else if (frame.type === "queue") {
      this.queueItems.push(...frame.items);
      const last = frame.items.at(-1);
      if (options.autoAcknowledge === true && last !== undefined) {
        this.acknowledge({ queue: last.position });
      }
    } else if (frame.type === "missed") {
      this.missed.push(frame);
    } else if (frame.type === "delivery") {
      this.deliveries.push(...frame.items);
    }
  }

  #acknowledgeSoon(options: StreamOptions): void {
    if (this.#acknowledgeTimer !== undefined) return;
    this.#acknowledgeTimer = setTimeout(() => {
      this.#acknowledgeTimer = undefined;
      if (this.socket.readyState === WebSocket.OPEN) this.acknowledge({ stream: this.through });
    }, options.acknowledgeEveryMs ?? 50);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
