// Acting as another server by hand: a bare HTTP server publishing a key
// document (so the target can look the "server" up), and a raw WebSocket
// client that speaks link frames, correctly or not.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type KeyPair, parseServerName, type ServerName } from "@parley/protocol";
import { WebSocket } from "ws";
import { type HandshakeContext, signHandshake } from "../../src/federation/links/handshake.ts";
import {
  type AcceptFrame,
  decodeLinkFrame,
  encodeLinkFrame,
  type LinkFrame,
} from "../../src/federation/links/link-frames.ts";
import { keyDocumentFor, provider } from "./link-endpoint.ts";

export interface DocumentHost {
  readonly name: ServerName;
  close(): Promise<void>;
}

/** Serves a key document for `127.0.0.1:<port>` signed by `keyPair`. */
export async function hostDocument(keyPair: KeyPair): Promise<DocumentHost> {
  let bytes: Uint8Array = new Uint8Array(0);
  const server = createServer((request, response) => {
    if (request.url !== "/.well-known/parley/server") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/cbor" }).end(Buffer.from(bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const name = parseServerName(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  bytes = keyDocumentFor(name, keyPair);
  return {
    name,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const frameLimits = { payloadBytesMax: 65 * 1024 * 1024, handshakeFrameBytesMax: 4096 };

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class RawPeer {
  readonly socket: WebSocket;
  readonly #frames: Uint8Array[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<boolean>;

  private constructor(url: string, options: { autoPong: boolean }) {
    this.socket = new WebSocket(url, { autoPong: options.autoPong, perMessageDeflate: false });
    this.socket.binaryType = "nodebuffer";
    this.socket.on("message", (data: Buffer) => this.#frames.push(new Uint8Array(data)));
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      this.socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.opened = new Promise((resolve) => {
      this.socket.on("open", () => resolve(true));
      this.socket.on("unexpected-response", () => resolve(false));
      this.socket.on("error", () => resolve(false));
    });
  }

  /** Connects to a server's link endpoint (127.0.0.1 only). */
  static async connect(target: ServerName, options = { autoPong: true }): Promise<RawPeer> {
    const peer = new RawPeer(`ws://${target}/_parley/federation/v1`, options);
    await peer.opened;
    return peer;
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  send(frame: LinkFrame): void {
    this.sendBytes(encodeLinkFrame(frame));
  }

  /** The next frame received, raw; fails after `timeoutMs`. */
  async nextBytes(timeoutMs = 5_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) return frame;
      if (Date.now() > deadline) throw new Error("no frame arrived in time");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async next(timeoutMs = 5_000): Promise<LinkFrame> {
    return decodeLinkFrame(await this.nextBytes(timeoutMs), frameLimits);
  }

  /** Frames received and not read yet, decoded. */
  async drainFrames(): Promise<LinkFrame[]> {
    return this.#frames.splice(0).map((bytes) => decodeLinkFrame(bytes, frameLimits));
  }

  close(): void {
    this.socket.terminate();
  }
}

export interface HandshakeOverrides {
  /** Signs the confirm with this key instead of the identity's. */
  readonly signingKey?: KeyPair;
  readonly timeMs?: number;
  /** Names this responder in the hello instead of the real one. */
  readonly responder?: string;
}

/** Runs the initiator's side of the handshake by hand; returns what it sent and got. */
export async function handshakeAs(
  peer: RawPeer,
  identity: { readonly name: ServerName; readonly keyPair: KeyPair },
  responder: ServerName,
  overrides: HandshakeOverrides = {},
): Promise<{ hello: Uint8Array; confirm: Uint8Array | null; answer: LinkFrame }> {
  const initiatorNonce = new Uint8Array(32).map(() => Math.floor(Math.random() * 256));
  const hello = encodeLinkFrame({
    kind: "hello",
    versions: [1],
    initiator: identity.name,
    responder: overrides.responder ?? responder,
    initiatorNonce,
  });
  peer.sendBytes(hello);
  const accept = await peer.next();
  if (accept.kind !== "accept") return { hello, confirm: null, answer: accept };
  const context: HandshakeContext = {
    version: accept.version,
    initiator: identity.name,
    responder,
    initiatorNonce,
    responderNonce: (accept as AcceptFrame).responderNonce,
  };
  const proof = signHandshake(
    provider,
    overrides.signingKey ?? identity.keyPair,
    context,
    "initiator",
    {
      timeMs: overrides.timeMs ?? Date.now(),
      receivedSequence: 0,
    },
  );
  const confirm = encodeLinkFrame({ kind: "confirm", ...proof });
  peer.sendBytes(confirm);
  return { hello, confirm, answer: await peer.next() };
}
