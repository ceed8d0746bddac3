// The live stream (docs/protocol.md §10.8) kept alive: one WebSocket at a
// time, authenticated by its first frame, reconnected after any loss with a
// bounded, jittered back-off, and acknowledged only for what the handlers
// have finished processing — so a reconnect resumes from the server's stored
// cursor and nothing is lost. Duplicates after a reconnect are possible on
// the wire (at least once); the caller drops them by room sequence.

import {
  type DeliveryItemJson,
  type EventJson,
  errorCodeEntry,
  errorCodeList,
  ParleyError,
  type QueueItemJson,
  type ServerFrame,
} from "@parley/protocol";
import { NetworkError } from "../errors.ts";
import type { ConnectionState } from "../events/client-events.ts";
import { type BackoffPolicy, backoffDelayMs } from "./backoff.ts";
import { type WebSocketConstructor, type WebSocketLike, webSocketOpen } from "./web-socket.ts";

/** What the stream hands over. Each promise resolves once the frame is safely processed. */
export interface StreamHandlers {
  events(events: readonly EventJson[]): Promise<void>;
  queue(items: readonly QueueItemJson[]): Promise<void>;
  missed(count: number, through: number): Promise<void>;
  /** Delivery counts of this user's messages (§10.14): not stored, not acknowledged. */
  delivery(items: readonly DeliveryItemJson[]): void;
  connection(state: ConnectionState): void;
}

export interface LiveStreamOptions {
  readonly url: string;
  readonly webSocket: WebSocketConstructor;
  /** The current access token (renewed by the session if about to expire). */
  readonly token: () => Promise<string>;
  /** Opens a new session after the server closed with `unauthorized`. */
  readonly renewSession: () => Promise<void>;
  readonly handlers: StreamHandlers;
  readonly backoff: BackoffPolicy;
  /** Consecutive failed attempts before giving up with status "stopped". */
  readonly attemptsMax: number;
  /** A number in [0, 1); injected so tests can fix the jitter. */
  readonly random: () => number;
  /** Acknowledgements are coalesced: at most one per this interval (and one on closing). */
  readonly acknowledgeEveryMs: number;
  /** A ping frame goes out this often; a connection with no pong in `pongTimeoutMs` is dropped. */
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
}

/** One socket's life: what it delivered and what of that was acknowledged. */
interface Connection {
  readonly socket: WebSocketLike;
  ready: boolean;
  /** The newest `through` whose frame the handlers finished. */
  processedThrough: number;
  acknowledgedThrough: number;
  acknowledgeTimer: ReturnType<typeof setTimeout> | undefined;
  pingTimer: ReturnType<typeof setInterval> | undefined;
  pongTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames are processed one after another, in arrival order. */
  processing: Promise<void>;
  ended: boolean;
}

const normalClosure = 1000;

/** The table's error for a close code; a code outside the table is a lost connection. */
function closeError(code: number, reason: string): ParleyError {
  const known = errorCodeList.find((candidate) => errorCodeEntry(candidate).closeCode === code);
  if (known === undefined) {
    return new NetworkError(
      `the stream closed (${code}${reason === "" ? "" : ` ${reason}`})`,
      undefined,
    );
  }
  return new ParleyError(known, reason === "" ? errorCodeEntry(known).meaning : reason);
}

export class LiveStream {
  readonly #options: LiveStreamOptions;
  #connection: Connection | undefined;
  #running = false;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LiveStreamOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts connecting (once; calling it while running does nothing). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    void this.#open();
  }

  /** Acknowledges what was processed, closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#retryTimer);
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) {
      await connection.processing;
      this.#acknowledge(connection);
      this.#end(connection);
      connection.socket.close(normalClosure, "bye");
    }
    this.#options.handlers.connection({ status: "stopped", error: undefined });
  }

  /**
   * Drops the current socket as a network failure would, without a clean
   * close or a last acknowledgement; the stream reconnects. For tests and for
   * applications that learn the network changed.
   */
  interrupt(): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    connection.socket.close(normalClosure, "interrupted");
    this.#lost(connection, new NetworkError("the connection was interrupted", undefined));
  }

  async #open(): Promise<void> {
    if (!this.#running) return;
    this.#options.handlers.connection({ status: "connecting", attempt: this.#attempt });
    let token: string;
    try {
      token = await this.#options.token();
    } catch (error) {
      this.#retry(error instanceof ParleyError ? error : new NetworkError("no token", error));
      return;
    }
    if (!this.#running) return;
    let socket: WebSocketLike;
    try {
      socket = new this.#options.webSocket(this.#options.url);
    } catch (error) {
      this.#retry(new NetworkError(`cannot open ${this.#options.url}`, error));
      return;
    }
    const connection: Connection = {
      socket,
      ready: false,
      processedThrough: 0,
      acknowledgedThrough: 0,
      acknowledgeTimer: undefined,
      pingTimer: undefined,
      pongTimer: undefined,
      processing: Promise.resolve(),
      ended: false,
    };
    this.#connection = connection;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
    socket.onmessage = (event) => this.#receive(connection, event.data);
    socket.onerror = () => {
      // The close event that follows carries the code; nothing to do here.
    };
    socket.onclose = (event) => this.#lost(connection, closeError(event.code, event.reason));
  }

  #receive(connection: Connection, data: unknown): void {
    if (connection.ended) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch (cause) {
      this.#drop(
        connection,
        new ParleyError("bad_encoding", "the server sent a frame that is not JSON", { cause }),
      );
      return;
    }
    if (frame.type === "pong") {
      clearTimeout(connection.pongTimer);
      connection.pongTimer = undefined;
      return;
    }
    if (frame.type === "ready") {
      connection.ready = true;
      this.#attempt = 0;
      this.#startPinging(connection);
      this.#options.handlers.connection({ status: "connected" });
      return;
    }
    connection.processing = connection.processing
      .then(() => this.#process(connection, frame))
      .catch((error: unknown) =>
        this.#drop(
          connection,
          error instanceof ParleyError ? error : new NetworkError("a frame failed", error),
        ),
      );
  }

  async #process(connection: Connection, frame: ServerFrame): Promise<void> {
    if (connection.ended) return;
    const { handlers } = this.#options;
    if (frame.type === "events") {
      await handlers.events(frame.events);
      connection.processedThrough = frame.through;
      this.#acknowledgeSoon(connection);
    } else if (frame.type === "missed") {
      await handlers.missed(frame.count, frame.through);
      connection.processedThrough = Math.max(connection.processedThrough, frame.through);
      this.#acknowledgeSoon(connection);
    } else if (frame.type === "delivery") {
      handlers.delivery(frame.items);
    } else if (frame.type === "queue") {
      if (frame.missed !== null) await handlers.missed(frame.missed.count, frame.missed.through);
      await handlers.queue(frame.items);
      const last = frame.items.at(-1);
      if (last !== undefined) this.#send(connection, { type: "ack", queue: last.position });
    }
  }

  #acknowledgeSoon(connection: Connection): void {
    if (connection.acknowledgeTimer !== undefined) return;
    connection.acknowledgeTimer = setTimeout(() => {
      connection.acknowledgeTimer = undefined;
      this.#acknowledge(connection);
    }, this.#options.acknowledgeEveryMs);
  }

  #acknowledge(connection: Connection): void {
    clearTimeout(connection.acknowledgeTimer);
    connection.acknowledgeTimer = undefined;
    if (connection.processedThrough <= connection.acknowledgedThrough) return;
    if (this.#send(connection, { type: "ack", stream: connection.processedThrough })) {
      connection.acknowledgedThrough = connection.processedThrough;
    }
  }

  #startPinging(connection: Connection): void {
    connection.pingTimer = setInterval(() => {
      if (connection.pongTimer !== undefined) return;
      if (!this.#send(connection, { type: "ping" })) return;
      connection.pongTimer = setTimeout(() => {
        this.#drop(connection, new NetworkError("the server stopped answering pings", undefined));
      }, this.#options.pongTimeoutMs);
    }, this.#options.pingIntervalMs);
  }

  #send(connection: Connection, frame: unknown): boolean {
    if (connection.ended || connection.socket.readyState !== webSocketOpen) return false;
    connection.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes a connection this side found broken, then treats it as lost. */
  #drop(connection: Connection, error: ParleyError): void {
    if (connection.ended) return;
    connection.socket.close(normalClosure, "dropped");
    this.#lost(connection, error);
  }

  #end(connection: Connection): void {
    connection.ended = true;
    clearTimeout(connection.acknowledgeTimer);
    clearInterval(connection.pingTimer);
    clearTimeout(connection.pongTimer);
  }

  #lost(connection: Connection, error: ParleyError): void {
    if (connection.ended) return;
    this.#end(connection);
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    if (!this.#running) return;
    if (error.code === "device_revoked" || error.code === "conflict") {
      // Revoked for good, or replaced by newer sockets of this device: retrying would not help.
      this.#giveUp(error);
    } else if (error.code === "unauthorized") {
      this.#renewThenRetry(error);
    } else {
      this.#retry(error);
    }
  }

  #renewThenRetry(error: ParleyError): void {
    this.#options.renewSession().then(
      () => this.#retry(error),
      (renewError: unknown) => {
        const failure = renewError instanceof ParleyError ? renewError : error;
        if (failure.code === "unauthorized" || failure.code === "device_revoked") {
          this.#giveUp(failure);
        } else {
          this.#retry(failure);
        }
      },
    );
  }

  #retry(error: ParleyError): void {
    if (!this.#running) return;
    this.#attempt += 1;
    if (this.#attempt > this.#options.attemptsMax) {
      this.#giveUp(error);
      return;
    }
    const delayMs = backoffDelayMs(this.#options.backoff, this.#attempt, this.#options.random());
    this.#options.handlers.connection({
      status: "reconnecting",
      attempt: this.#attempt,
      delayMs,
      error,
    });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#open(), delayMs);
  }

  #giveUp(error: ParleyError): void {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#options.handlers.connection({ status: "stopped", error });
  }
}
