// One authenticated stream socket and the delivery state the hub keeps for
// it. `sent` is the stream position up to which every event of the device's
// rooms has been sent on this socket; the device acknowledges positions it
// was sent, and the hub writes the newest acknowledgement to storage.

import type { DeviceId, UserId } from "@parley/protocol";

/** The part of a WebSocket the hub uses; the real one is `ws`, tests use fakes. */
export interface StreamSocket {
  send(data: string | Buffer): void;
  /** Bytes queued in the socket and not yet written to the network. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** The rooms a user reads, shared by all of the user's sockets. */
export interface Reader {
  readonly rooms: Set<string>;
  readonly connections: Set<StreamConnection>;
  /** Resolves once `rooms` is loaded from storage. */
  ready: Promise<void>;
  /** While loading: rooms whose reading changed meanwhile, which storage may not show yet. */
  changedWhileLoading: Set<string> | null;
}

export type ConnectionState = "catching-up" | "live" | "closed";

export class StreamConnection {
  readonly id: number;
  readonly socket: StreamSocket;
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  /** base64url SHA-256 of the session token, to end the socket with its session. */
  readonly sessionKey: string;
  readonly reader: Reader;
  state: ConnectionState = "catching-up";
  sent = 0;
  queueSent = 0;
  queueReading = false;
  queueReadAgain = false;
  /** Newest stream position the device acknowledged, and the newest written. */
  acknowledged = 0;
  acknowledgedWritten = 0;
  /** Send frames accepted and not yet answered (limits.streamSendsInFlightMax). */
  sendsInFlight = 0;
  /** Set by the heartbeat, cleared by a pong; a socket silent for a whole interval is dead. */
  awaitingPong = false;

  constructor(input: {
    id: number;
    socket: StreamSocket;
    userId: UserId;
    deviceId: DeviceId;
    sessionKey: string;
    reader: Reader;
  }) {
    this.id = input.id;
    this.socket = input.socket;
    this.userId = input.userId;
    this.deviceId = input.deviceId;
    this.sessionKey = input.sessionKey;
    this.reader = input.reader;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  /** Sends a frame unless the socket is gone; a frame never throws into the hub. */
  sendFrame(frame: string | Buffer): void {
    if (this.closed) return;
    try {
      this.socket.send(frame);
    } catch {
      // The socket closed under us; its close handler detaches it.
    }
  }

  sendJson(value: unknown): void {
    this.sendFrame(JSON.stringify(value));
  }
}

/** An events frame: `through` says every event of the device's rooms up to it has been sent. */
export function eventsFrame(through: number, eventTexts: readonly string[]): string {
  return `{"type":"events","through":${through},"events":[${eventTexts.join(",")}]}`;
}
