// One WebSocket between two servers, from open to close: the signed handshake
// in its role (§12.10.3), then heartbeats (§12.10.6), with every frame decoded
// and checked at the edge (§12.10.4). What to do with an authenticated link's
// frames is the LinkManager's business; this class only reports them.

import {
  type ErrorCode,
  isParleyError,
  type KeyPair,
  ParleyError,
  parseServerName,
  rateLimited,
  type ServerName,
  type SignatureProvider,
  toParleyError,
  type VerifiedServerKeyDocument,
} from "@parley/protocol";
import type { RawData, WebSocket } from "ws";
import type { Logger } from "../../observability/logger.ts";
import type { PeerKeys } from "../discovery/peer-directory.ts";
import {
  chooseVersion,
  type HandshakeContext,
  type HandshakeRole,
  signHandshake,
  verifyHandshakeProof,
} from "./handshake.ts";
import type { LinkLimits } from "./limits.ts";
import type { LinkClock, LinkRandom, LinkTimers } from "./link-environment.ts";
import {
  type AcceptFrame,
  type ConfirmFrame,
  decodeLinkFrame,
  encodeLinkFrame,
  type HandshakeProof,
  type HelloFrame,
  type LinkFrame,
  linkVersions,
  nonceBytes,
} from "./link-frames.ts";

export interface ConnectionDependencies {
  readonly identity: { readonly name: ServerName; readonly keyPair: KeyPair };
  readonly provider: SignatureProvider;
  readonly directory: PeerKeys;
  readonly clock: LinkClock;
  readonly timers: LinkTimers;
  readonly random: LinkRandom;
  readonly limits: LinkLimits;
  readonly logger: Logger;
  /** The receive mark to state in the handshake for `peer`. */
  receivedSequenceOf(peer: ServerName): Promise<number>;
  /** How long `peer` is still refused (0: not refused). */
  refusedForMs(peer: ServerName): number;
  /** Whether the operator blocked `peer` (administration/server-block-list.ts). */
  blocked(peer: ServerName): boolean;
}

export interface ConnectionEvents {
  authenticated(connection: LinkConnection): void;
  /** A data or acknowledgement frame of an authenticated link. */
  frame(connection: LinkConnection, frame: LinkFrame): void;
  /** A heartbeat round passed on an authenticated link. */
  heartbeat(connection: LinkConnection): void;
  closed(connection: LinkConnection): void;
  /** The other side broke the protocol; the connection is being closed with `code`. */
  offence(connection: LinkConnection, code: ErrorCode): void;
}

type State =
  | "awaiting-hello"
  | "awaiting-accept"
  | "awaiting-confirm"
  | "awaiting-ready"
  | "open"
  | "closed";

/** Codes after which a fresh key document may help: the peer may have rotated its key. */
const keyRelatedCodes: readonly ErrorCode[] = [
  "signature_invalid",
  "server_key_unknown",
  "server_key_not_valid",
];

export class LinkConnection {
  readonly role: HandshakeRole;
  readonly openedOrder: number;
  readonly remoteAddress: string;
  /** The other server: claimed until `authenticated`, then proven. */
  peer: ServerName | null;
  /** The other side's receive mark for our durable frames, from its handshake proof. */
  peerReceivedSequence = 0;
  readonly #socket: WebSocket;
  readonly #dependencies: ConnectionDependencies;
  readonly #events: ConnectionEvents;
  #state: State;
  #context: HandshakeContext | null = null;
  #ownNonce: Uint8Array;
  #peerDocument: VerifiedServerKeyDocument | null;
  /** Handshake frames are handled one after another, across their awaits. */
  #handshakeChain: Promise<void> = Promise.resolve();
  #timer: unknown = null;
  #lastHeardMs: number;

  constructor(input: {
    readonly socket: WebSocket;
    readonly role: HandshakeRole;
    readonly openedOrder: number;
    readonly remoteAddress: string;
    /** The server dialled (initiator) and its verified document. */
    readonly dialled?: { readonly peer: ServerName; readonly document: VerifiedServerKeyDocument };
    readonly dependencies: ConnectionDependencies;
    readonly events: ConnectionEvents;
  }) {
    this.#socket = input.socket;
    this.role = input.role;
    this.openedOrder = input.openedOrder;
    this.remoteAddress = input.remoteAddress;
    this.peer = input.dialled?.peer ?? null;
    this.#peerDocument = input.dialled?.document ?? null;
    this.#dependencies = input.dependencies;
    this.#events = input.events;
    this.#state = input.role === "responder" ? "awaiting-hello" : "awaiting-accept";
    this.#ownNonce = input.dependencies.random.bytes(nonceBytes);
    this.#lastHeardMs = input.dependencies.clock.nowMs();
    this.#timer = input.dependencies.timers.setTimeout(
      () => this.fail(new ParleyError("unauthorized", "the handshake did not finish in time")),
      input.dependencies.limits.handshakeTimeoutMs,
    );
    this.#socket.binaryType = "nodebuffer";
    this.#socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    this.#socket.on("pong", () => {
      this.#lastHeardMs = this.#dependencies.clock.nowMs();
    });
    this.#socket.on("close", () => this.#onClose());
    this.#socket.on("error", (error) => {
      this.#dependencies.logger.debug(
        { err: error, peer: this.peer },
        "federation link socket error",
      );
    });
    if (input.role === "initiator") {
      if (this.#socket.readyState === this.#socket.OPEN) this.#sendHello();
      else this.#socket.on("open", () => this.#sendHello());
    }
  }

  get authenticated(): boolean {
    return this.#state === "open";
  }

  get isClosed(): boolean {
    return this.#state === "closed";
  }

  /** Bytes queued in the socket and not yet written to the network. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  send(frame: LinkFrame): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(encodeLinkFrame(frame));
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Sends a coded error frame and closes with the code's close code (§7). */
  fail(error: ParleyError): void {
    if (this.#state === "closed") return;
    const wire = error.toWire();
    this.send({ kind: "error", code: wire.code, message: wire.message });
    this.closeWith(error.closeCode, wire.message);
  }

  closeWith(code: number, reason: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#clearTimer();
    // A close reason is at most 123 bytes (RFC 6455 §5.5).
    this.#socket.close(code, Buffer.from(reason).subarray(0, 120).toString());
    // A peer that never answers the close is cut off after the handshake timeout.
    const socket = this.#socket;
    this.#dependencies.timers.setTimeout(
      () => socket.terminate(),
      this.#dependencies.limits.handshakeTimeoutMs,
    );
  }

  #sendHello(): void {
    const peer = this.peer;
    if (peer === null) return;
    const hello: HelloFrame = {
      kind: "hello",
      versions: linkVersions,
      initiator: this.#dependencies.identity.name,
      responder: peer,
      initiatorNonce: this.#ownNonce,
    };
    this.send(hello);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#lastHeardMs = this.#dependencies.clock.nowMs();
    if (this.#state === "closed") return;
    let frame: LinkFrame;
    try {
      if (!isBinary || !Buffer.isBuffer(data))
        throw new ParleyError("bad_structure", "link frames are binary");
      frame = decodeLinkFrame(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        this.#dependencies.limits,
      );
    } catch (error) {
      this.#refuse(error);
      return;
    }
    if (frame.kind === "error") {
      this.#dependencies.logger.info(
        { peer: this.peer, code: frame.code, reason: frame.message },
        "federation peer closed the link with an error",
      );
      this.closeWith(1000, "error received");
      return;
    }
    if (this.#state === "open") {
      if (
        frame.kind === "durable" ||
        frame.kind === "best-effort" ||
        frame.kind === "acknowledge"
      ) {
        this.#events.frame(this, frame);
      } else {
        this.#refuse(new ParleyError("bad_structure", `${frame.kind} after the handshake`));
      }
      return;
    }
    this.#handshakeChain = this.#handshakeChain
      .then(() => this.#handshakeStep(frame))
      .catch((error: unknown) => this.#refuse(error));
  }

  /** Refuses what the other side sent: a coded error frame, then close. */
  #refuse(thrown: unknown): void {
    const error = toParleyError(thrown);
    if (error.category === "internal" || error.category === "misuse") {
      this.#dependencies.logger.error({ err: thrown, peer: this.peer }, "federation link failed");
    }
    if (this.#state !== "closed") this.#events.offence(this, error.code);
    this.fail(error);
  }

  async #handshakeStep(frame: LinkFrame): Promise<void> {
    if (this.#state === "closed") return;
    if (this.#state === "awaiting-hello" && frame.kind === "hello") return this.#onHello(frame);
    if (this.#state === "awaiting-accept" && frame.kind === "accept") return this.#onAccept(frame);
    if (this.#state === "awaiting-confirm" && frame.kind === "confirm")
      return this.#onConfirm(frame);
    if (this.#state === "awaiting-ready" && frame.kind === "ready") return this.#open();
    throw new ParleyError("bad_structure", `unexpected ${frame.kind} frame while ${this.#state}`);
  }

  async #onHello(hello: HelloFrame): Promise<void> {
    const { identity, directory, clock, provider } = this.#dependencies;
    if (hello.responder !== identity.name) {
      throw new ParleyError("server_mismatch", `this is ${identity.name}, not ${hello.responder}`);
    }
    const initiator = parseServerName(hello.initiator);
    if (initiator === identity.name)
      throw new ParleyError("forbidden", "a server does not link to itself");
    const version = chooseVersion(hello.versions, linkVersions);
    if (this.#dependencies.blocked(initiator)) {
      throw new ParleyError("forbidden", `${initiator} is blocked by this server`);
    }
    const refusedMs = this.#dependencies.refusedForMs(initiator);
    if (refusedMs > 0)
      throw rateLimited(refusedMs, `${initiator} is refused for a while after bad frames`);
    this.peer = initiator;
    this.#peerDocument = await directory.lookup(initiator);
    this.#context = {
      version,
      initiator,
      responder: identity.name,
      initiatorNonce: hello.initiatorNonce,
      responderNonce: this.#ownNonce,
    };
    const receivedSequence = await this.#dependencies.receivedSequenceOf(initiator);
    if (this.#state === "closed") return;
    const proof = signHandshake(provider, identity.keyPair, this.#context, "responder", {
      timeMs: clock.nowMs(),
      receivedSequence,
    });
    this.#state = "awaiting-confirm";
    this.send({ kind: "accept", version, responderNonce: this.#ownNonce, ...proof });
  }

  async #onAccept(accept: AcceptFrame): Promise<void> {
    const { identity, clock, provider } = this.#dependencies;
    const peer = this.peer;
    if (peer === null) throw new ParleyError("internal", "an initiator without a peer");
    if (!linkVersions.includes(accept.version)) {
      throw new ParleyError("bad_structure", `version ${accept.version} was not offered`);
    }
    this.#context = {
      version: accept.version,
      initiator: identity.name,
      responder: peer,
      initiatorNonce: this.#ownNonce,
      responderNonce: accept.responderNonce,
    };
    await this.#verify(this.#context, "responder", accept);
    this.peerReceivedSequence = accept.receivedSequence;
    const receivedSequence = await this.#dependencies.receivedSequenceOf(peer);
    if (this.#state === "closed") return;
    const proof: HandshakeProof = signHandshake(
      provider,
      identity.keyPair,
      this.#context,
      "initiator",
      {
        timeMs: clock.nowMs(),
        receivedSequence,
      },
    );
    this.#state = "awaiting-ready";
    const confirm: ConfirmFrame = { kind: "confirm", ...proof };
    this.send(confirm);
  }

  async #onConfirm(confirm: ConfirmFrame): Promise<void> {
    const context = this.#context;
    if (context === null) throw new ParleyError("internal", "confirm without a context");
    await this.#verify(context, "initiator", confirm);
    this.peerReceivedSequence = confirm.receivedSequence;
    if (this.#state === "closed") return;
    this.send({ kind: "ready" });
    this.#open();
  }

  /** Verifies the other side's proof; on a key-related failure, once more with a fresh document. */
  async #verify(
    context: HandshakeContext,
    signerRole: HandshakeRole,
    proof: HandshakeProof,
  ): Promise<void> {
    const { provider, clock, limits, directory } = this.#dependencies;
    const peer = signerRole === "initiator" ? context.initiator : context.responder;
    const check = (document: VerifiedServerKeyDocument) =>
      verifyHandshakeProof(context, signerRole, proof, {
        provider,
        document,
        nowMs: clock.nowMs(),
        clockSkewMaxMs: limits.clockSkewMaxMs,
      });
    const document = this.#peerDocument ?? (await directory.lookup(peer));
    try {
      check(document);
    } catch (error) {
      if (!keyRelatedCodes.some((code) => isParleyError(error, code))) throw error;
      const refreshed = await directory.refresh(peer);
      if (refreshed === document) throw error;
      this.#peerDocument = refreshed;
      check(refreshed);
    }
  }

  #open(): void {
    if (this.#state === "closed") return;
    this.#state = "open";
    this.#clearTimer();
    this.#lastHeardMs = this.#dependencies.clock.nowMs();
    this.#scheduleHeartbeat();
    this.#events.authenticated(this);
  }

  #scheduleHeartbeat(): void {
    const { timers, limits } = this.#dependencies;
    this.#timer = timers.setTimeout(() => this.#heartbeat(), limits.heartbeatIntervalMs);
  }

  #heartbeat(): void {
    if (this.#state !== "open") return;
    const silentMs = this.#dependencies.clock.nowMs() - this.#lastHeardMs;
    if (silentMs > this.#dependencies.limits.heartbeatTimeoutMs) {
      this.#dependencies.logger.warn(
        { peer: this.peer, silentMs },
        "federation link silent too long; declared down",
      );
      this.#state = "closed";
      this.#socket.terminate();
      return;
    }
    this.#socket.ping();
    this.#events.heartbeat(this);
    this.#scheduleHeartbeat();
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#dependencies.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #onClose(): void {
    this.#state = "closed";
    this.#clearTimer();
    this.#events.closed(this);
  }
}
