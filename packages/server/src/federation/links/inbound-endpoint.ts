// The accepting side of links: WebSocket upgrades on the HTTP server at the
// federation endpoint's path, refused before any handshake when the server
// is closing, has too many connections or throttles the address.

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ErrorCode } from "@parley/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import type { LinkLimits } from "./limits.ts";
import type { LinkMetrics } from "./link-metrics.ts";

/** The path of the link endpoint, the federation endpoint's path (§6.2, §12.10.2). */
export const federationLinkPath = "/_parley/federation/v1";

export interface InboundEndpointOptions {
  /** The path inbound links are accepted on (the federation endpoint's path). */
  readonly path: string;
  readonly limits: LinkLimits;
  readonly metrics: LinkMetrics;
  /** Why a connection from `address` is refused now, or null to accept it. */
  refusalOf(address: string): ErrorCode | null;
  /** An accepted socket from `address`, before its handshake. */
  accept(socket: WebSocket, address: string): void;
}

export class InboundEndpoint {
  readonly #options: InboundEndpointOptions;
  #sockets: WebSocketServer | null = null;

  constructor(options: InboundEndpointOptions) {
    this.#options = options;
  }

  /** Listens for upgrades on `server`; other upgrades (the client stream's) are left alone. */
  attach(server: Server): void {
    const { path, limits } = this.#options;
    this.#sockets = new WebSocketServer({
      noServer: true,
      maxPayload: limits.payloadBytesMax + 16,
      perMessageDeflate: false,
    });
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const requestPath = (request.url ?? "").split("?")[0];
      if (!requestPath?.startsWith(federationLinkPath)) return; // The client stream's upgrades.
      if (requestPath !== path) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.#upgrade(request, socket, head);
    });
  }

  close(): void {
    this.#sockets?.close();
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = request.socket.remoteAddress ?? "unknown";
    const refusal = this.#options.refusalOf(address);
    const sockets = this.#sockets;
    if (refusal !== null || sockets === null) {
      this.#options.metrics.refusals.inc({ code: refusal ?? "unavailable" });
      socket.end(
        `HTTP/1.1 ${refusal === "rate_limited" ? "429 Too Many Requests" : "503 Service Unavailable"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      this.#options.accept(webSocket, address);
    });
  }
}
