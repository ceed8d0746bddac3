/**
 * The loopback benchmark's transport between node processes: TCP on
 * 127.0.0.1 only, one outgoing connection per peer for what this node sends
 * and the peers' connections in for what it receives (like etcd's streams).
 * Messages travel as the length-prefixed frames of codec.ts; all messages of
 * one Ready for one peer go out in a single socket write.
 *
 * A peer's outgoing connection closing (a killed process resets it at once)
 * is reported as that peer going dead, and reconnecting as it coming back,
 * which is what `RawNode.peerLivenessChanged` wants.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Message, NodeId } from "@parley/raft";
import { Reader } from "./binary.ts";
import { encodeFrames, readMessage } from "./codec.ts";
import { FrameSplitter } from "./frames.ts";

const HOST = "127.0.0.1";
const RECONNECT_DELAY_MS = 50;
/** Reconnection attempts per peer before giving up (a dead peer stays dead in the benchmark). */
const RECONNECT_ATTEMPTS_MAX = 1_200;

export interface TransportEvents {
  message(message: Message): void;
  /** Called after the messages of one incoming chunk were delivered. */
  received(): void;
  liveness(peer: NodeId, alive: boolean): void;
}

interface Peer {
  readonly id: NodeId;
  readonly port: number;
  socket: Socket | null;
  attempts: number;
  timer: NodeJS.Timeout | null;
}

export class PeerTransport {
  private readonly server: Server;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly incoming = new Set<Socket>();
  private closed = false;
  messagesSent = 0;
  messagesReceived = 0;

  constructor(private readonly events: TransportEvents) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on an ephemeral loopback port and returns it. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, HOST, () => {
        const address = this.server.address();
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  }

  /** Starts connecting to every peer; `connected` resolves once all are connected once. */
  connect(peers: ReadonlyMap<NodeId, number>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [id, port] of peers) {
      const peer: Peer = { id, port, socket: null, attempts: 0, timer: null };
      this.peers.set(id, peer);
      waits.push(new Promise((resolve) => this.dial(peer, resolve)));
    }
    return Promise.all(waits).then(() => {});
  }

  private dial(peer: Peer, onConnected: () => void): void {
    if (this.closed || peer.attempts >= RECONNECT_ATTEMPTS_MAX) return;
    peer.attempts++;
    const socket = connect({ port: peer.port, host: HOST });
    socket.setNoDelay(true);
    let wasConnected = false;
    socket.once("connect", () => {
      wasConnected = true;
      peer.socket = socket;
      peer.attempts = 0;
      this.events.liveness(peer.id, true);
      onConnected();
    });
    socket.on("error", () => {});
    socket.once("close", () => {
      if (peer.socket === socket) peer.socket = null;
      if (wasConnected) this.events.liveness(peer.id, false);
      if (this.closed) return;
      peer.timer = setTimeout(() => this.dial(peer, onConnected), RECONNECT_DELAY_MS);
    });
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.incoming.add(socket);
    const splitter = new FrameSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        this.messagesReceived++;
        this.events.message(readMessage(new Reader(frame)));
      }
      this.events.received();
    });
    socket.on("error", () => {});
    socket.once("close", () => this.incoming.delete(socket));
  }

  /** Whether the outgoing connection to `peer` is up. */
  isConnected(peer: NodeId): boolean {
    return this.peers.get(peer)?.socket != null;
  }

  /**
   * Sends messages, grouped by destination, one write per peer. Returns the
   * peers that could not be reached (their connection is down).
   */
  send(messages: readonly Message[]): NodeId[] {
    if (messages.length === 0) return [];
    const byPeer = new Map<NodeId, Message[]>();
    for (const message of messages) {
      const list = byPeer.get(message.to);
      if (list === undefined) byPeer.set(message.to, [message]);
      else list.push(message);
    }
    const unreachable: NodeId[] = [];
    for (const [id, list] of byPeer) {
      const socket = this.peers.get(id)?.socket;
      if (socket == null) {
        unreachable.push(id);
        continue;
      }
      socket.write(encodeFrames(list));
      this.messagesSent += list.length;
    }
    return unreachable;
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) {
      if (peer.timer !== null) clearTimeout(peer.timer);
      peer.socket?.destroy();
    }
    for (const socket of this.incoming) socket.destroy();
    this.server.close();
  }
}
