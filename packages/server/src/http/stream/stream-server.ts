// The WebSocket endpoint of the client API. Browsers cannot set headers on a
// WebSocket, so the socket authenticates with its first frame,
// {type:"auth", token}; until then nothing is sent. Afterwards the hub pushes
// events and queue items, the client acknowledges positions, and a heartbeat
// closes sockets that stop answering pings. Every close uses a code from the
// project-wide error table (4xxx), or 1001 when the server shuts down.

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import {
  type ErrorCode,
  errorCodeEntry,
  isParleyError,
  ParleyError,
  rateLimited,
} from "@parley/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import {
  clientFrameBytesHardMax,
  streamAuthTimeoutMs,
  streamClientFramesPerSecond,
  streamHeartbeatIntervalMs,
  streamSendsInFlightMax,
  streamSocketsMax,
  streamSocketsPerDeviceMax,
} from "../../limits.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Accounts } from "../accounts.ts";
import { toBase64url } from "../json-fields.ts";
import { RateLimiter } from "../rate-limits.ts";
import { federationPath } from "../server-identity.ts";
import { errorReply } from "../wire-errors.ts";
import type { DeliveryHub } from "./delivery-hub.ts";
import { type ClientFrame, parseClientFrame } from "./frames.ts";
import type { StreamConnection, StreamSocket } from "./stream-connection.ts";

export interface StreamServerDependencies {
  readonly path: string;
  readonly hub: DeliveryHub;
  readonly accounts: Accounts;
  readonly logger: Logger;
  readonly nowMs: () => number;
  /** Per-address limiter shared with HTTP requests; throws `rate_limited`. */
  readonly admitAddress: (address: string) => void;
  /**
   * Accepts a room message sent on the socket (a `send` frame) as POST
   * /rooms/{roomId}/messages would, with the socket's session; resolves with
   * that route's answer or throws its error.
   */
  readonly acceptMessage: (
    connection: StreamConnection,
    roomId: string,
    message: string,
  ) => Promise<Record<string, unknown>>;
}

const goingAway = 1001;

function closeWith(socket: WebSocket, code: ErrorCode, reason: string): void {
  // Close reasons are at most 123 bytes (RFC 6455 §5.5).
  socket.close(errorCodeEntry(code).closeCode, reason.slice(0, 120));
}

function adapt(socket: WebSocket): StreamSocket {
  return {
    send: (data) => socket.send(data, { binary: false }),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    close: (code, reason) => socket.close(code, reason.slice(0, 120)),
  };
}

export class StreamServer {
  readonly #dependencies: StreamServerDependencies;
  readonly #sockets = new WebSocketServer({
    noServer: true,
    maxPayload: clientFrameBytesHardMax,
    perMessageDeflate: false,
  });
  readonly #open = new Map<WebSocket, StreamConnection | null>();
  readonly #awaitingPong = new Set<WebSocket>();
  readonly #frames = new RateLimiter({
    perSecond: streamClientFramesPerSecond,
    burst: streamClientFramesPerSecond * 2,
  });
  #heartbeat: NodeJS.Timeout | undefined;
  #closing = false;
  #nextSocketId = 1;

  constructor(dependencies: StreamServerDependencies) {
    this.#dependencies = dependencies;
  }

  listen(server: Server): void {
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(request, socket, head);
    });
    this.#heartbeat = setInterval(() => this.#beat(), streamHeartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  get openSockets(): number {
    return this.#open.size;
  }

  /** Ends every socket of a device at once (revocation). */
  closeDevice(deviceId: string, code: ErrorCode, reason: string): void {
    for (const connection of this.#dependencies.hub.connectionsOfDevice(deviceId)) {
      connection.socket.close(errorCodeEntry(code).closeCode, reason);
    }
  }

  /** Ends every socket opened with one session (logout). */
  closeSession(tokenHash: Uint8Array): void {
    const key = toBase64url(tokenHash);
    for (const connection of this.#dependencies.hub.allConnections()) {
      if (connection.sessionKey === key) {
        connection.socket.close(errorCodeEntry("unauthorized").closeCode, "logged out");
      }
    }
  }

  /** Stops accepting sockets and closes the open ones with 1001 (going away). */
  close(): void {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    for (const socket of this.#open.keys()) socket.close(goingAway, "server shutting down");
    this.#sockets.close();
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // The federation links own the upgrades under their path (federation/links).
    if ((request.url ?? "").startsWith(federationPath)) return;
    const refusal = this.#refusalOf(request);
    if (refusal !== undefined) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.#sockets.handleUpgrade(request, socket, head, (webSocket) => this.#accepted(webSocket));
  }

  /** The HTTP status line that refuses an upgrade, or undefined to accept it. */
  #refusalOf(request: IncomingMessage): string | undefined {
    const path = (request.url ?? "").split("?")[0];
    if (path !== this.#dependencies.path) return "404 Not Found";
    if (this.#closing) return "503 Service Unavailable";
    if (this.#open.size >= streamSocketsMax) return "507 Insufficient Storage";
    try {
      this.#dependencies.admitAddress(request.socket.remoteAddress ?? "unknown");
    } catch {
      return "429 Too Many Requests";
    }
    return undefined;
  }

  #accepted(socket: WebSocket): void {
    const socketId = `${this.#nextSocketId}`;
    this.#nextSocketId += 1;
    this.#open.set(socket, null);
    let authenticating = false;
    const authTimer = setTimeout(
      () => closeWith(socket, "unauthorized", "no auth frame in time"),
      streamAuthTimeoutMs,
    );
    socket.on("pong", () => this.#awaitingPong.delete(socket));
    socket.on("close", () => {
      clearTimeout(authTimer);
      this.#awaitingPong.delete(socket);
      const connection = this.#open.get(socket);
      this.#open.delete(socket);
      if (connection !== null && connection !== undefined)
        this.#dependencies.hub.detach(connection);
    });
    socket.on("error", () => socket.terminate());
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      let frame: ClientFrame;
      try {
        frame = parseClientFrame(data, isBinary);
        // Send frames answer their own limits per frame (#send); the rest are counted here.
        if (frame.type !== "send") this.#frames.take(socketId, this.#dependencies.nowMs());
      } catch (error) {
        const refusal = isParleyError(error) ? error : new ParleyError("internal", "bad frame");
        closeWith(socket, refusal.toWire().code, refusal.message);
        return;
      }
      const connection = this.#open.get(socket);
      if (connection === null || connection === undefined) {
        if (frame.type !== "auth" || authenticating) {
          closeWith(socket, "unauthorized", "the first frame must be a single auth frame");
          return;
        }
        authenticating = true;
        clearTimeout(authTimer);
        void this.#authenticate(socket, frame.token);
        return;
      }
      this.#handle(socket, connection, frame);
    });
  }

  async #authenticate(socket: WebSocket, token: string): Promise<void> {
    const { accounts, hub, logger } = this.#dependencies;
    try {
      const session = await accounts.authenticate(token);
      const existing = hub.connectionsOfDevice(session.deviceId);
      // The oldest socket of a device makes way for a new one beyond the bound.
      if (existing.length >= streamSocketsPerDeviceMax) {
        existing[0]?.socket.close(
          errorCodeEntry("conflict").closeCode,
          "replaced by a newer socket",
        );
      }
      if (socket.readyState !== socket.OPEN) return;
      const connection = await hub.attach(adapt(socket), {
        userId: session.userId,
        deviceId: session.deviceId,
        sessionKey: toBase64url(session.tokenHash),
      });
      if (this.#open.has(socket)) this.#open.set(socket, connection);
      else hub.detach(connection);
    } catch (error) {
      if (!isParleyError(error)) logger.error({ err: error }, "stream authentication failed");
      const refusal = isParleyError(error) ? error : new ParleyError("internal", "internal error");
      closeWith(socket, refusal.toWire().code, refusal.toWire().message);
    }
  }

  #handle(socket: WebSocket, connection: StreamConnection, frame: ClientFrame): void {
    const { hub, logger } = this.#dependencies;
    if (frame.type === "ping") {
      connection.sendJson({ type: "pong" });
      return;
    }
    if (frame.type === "auth") {
      closeWith(socket, "bad_structure", "this socket is already authenticated");
      return;
    }
    if (frame.type === "send") {
      void this.#send(connection, frame);
      return;
    }
    if (frame.stream !== undefined && !hub.acknowledgeStream(connection, frame.stream)) {
      closeWith(socket, "bad_structure", "acknowledged a stream position that was not sent");
      return;
    }
    const queuePosition = frame.queue;
    if (queuePosition !== undefined) {
      hub.acknowledgeQueue(connection, queuePosition).then(
        (accepted) => {
          if (!accepted)
            closeWith(socket, "bad_structure", "acknowledged a queue position that was not sent");
        },
        (error: unknown) => logger.warn({ err: error }, "queue acknowledgement failed"),
      );
    }
  }

  /** Answers one send frame with `sent` or `error`, both naming the frame's id. */
  async #send(
    connection: StreamConnection,
    frame: Extract<ClientFrame, { type: "send" }>,
  ): Promise<void> {
    const { acceptMessage, logger } = this.#dependencies;
    if (connection.sendsInFlight >= streamSendsInFlightMax) {
      const refusal = rateLimited(50, `at most ${streamSendsInFlightMax} sends in flight`);
      connection.sendJson({ type: "error", id: frame.id, ...refusal.toWire() });
      return;
    }
    connection.sendsInFlight += 1;
    try {
      const answer = await acceptMessage(connection, frame.roomId, frame.message);
      connection.sendJson({ type: "sent", id: frame.id, ...answer });
    } catch (error) {
      const reply = errorReply(error);
      if (reply.isServerFault) logger.error({ err: error }, "a stream send failed");
      connection.sendJson({ type: "error", id: frame.id, ...reply.body });
    } finally {
      connection.sendsInFlight -= 1;
    }
  }

  #beat(): void {
    for (const socket of this.#open.keys()) {
      if (this.#awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      this.#awaitingPong.add(socket);
      socket.ping();
    }
  }
}
