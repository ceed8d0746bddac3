// The contract between the server-to-server transport and the federation core
// that uses it (docs/protocol.md §12.10). Two implementations keep it: the real
// `LinkManager` (WebSocket links with a signed handshake and durable queues in
// the database) and `InProcessNetwork` (several servers in one process, for
// tests). Both pass the shared suite in test/federation-links/.

import type { ServerName } from "@parley/protocol";

/**
 * How a frame travels.
 * - `durable`: stored before `send` resolves, delivered in order, at least once,
 *   surviving either side's restart and any outage; the receiver deduplicates
 *   by queue sequence, so its handler sees each frame once except after a crash
 *   between the handler's own commit and the receiver's high-water mark write.
 * - `best-effort`: sent only if the link is up at that moment, otherwise
 *   dropped (Raft, heartbeats, link state: the protocol repairs their loss).
 */
export type Delivery = "durable" | "best-effort";

/** What the transport tells the federation core. */
export interface LinkHandlers {
  /** The link to `peer` is up and authenticated. Never called twice without a `linkDown` between. */
  linkUp(peer: ServerName): void;
  /** The link to `peer` went down. Called only after a `linkUp`. */
  linkDown(peer: ServerName): void;
  /**
   * A frame from `peer`, in the order the peer sent it. Calls are made in
   * arrival order without waiting for earlier promises (a bounded number are
   * outstanding per peer), so the caller may share one commit among several.
   * The link acknowledges a durable frame only after this promise resolves
   * (and every earlier one did); a rejection resets the link and the frame is
   * delivered again later, possibly with frames that followed it.
   */
  receive(peer: ServerName, bytes: Uint8Array): Promise<void>;
}

/** What the federation core may ask of the transport. */
export interface FederationLinks {
  /** Makes sure a link to `peer` exists or is being dialled (idempotent). */
  connect(peer: ServerName): void;
  /**
   * Sends one frame. A durable frame is stored before this resolves (and the
   * peer is dialled); when the peer's queue is at its bound in frames or bytes
   * it rejects with `capacity_exceeded` and nothing is stored. A best-effort
   * frame resolves at once whether or not it could be sent.
   */
  send(peer: ServerName, bytes: Uint8Array, delivery: Delivery): Promise<void>;
  /** Whether the link to `peer` is up now. */
  isUp(peer: ServerName): boolean;
  /** Graceful stop: no more dialling, sockets closed, queue writes in flight finished. */
  close(): Promise<void>;
}
