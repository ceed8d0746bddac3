// What the federation driver needs from the transport and from storage.
// The transport is the link manager (links/link-manager.ts): one
// authenticated link per peer server, with a durable outbound queue for
// frames whose loss the protocol would only repair slowly. Storage is the
// federation core's storage plus `flush`, which makes the writes of the
// inputs handled so far durable in one transaction.

import type { FederationStorage } from "@parley/federation";
import type { ServerName } from "@parley/protocol";
import type { TransactionWrite } from "../../storage/storage.ts";

/**
 * "durable": queued on disk until the peer acknowledges it, across restarts
 * of either side. "best-effort": sent if the link is up, else dropped (the
 * protocol repeats it: Raft retransmits, heartbeats and link state refresh).
 */
export type FrameDelivery = "durable" | "best-effort";

/** The part of the link manager the driver uses. */
export interface FederationTransport {
  /** Starts connecting to `peer` if no link exists or is being set up (idempotent). */
  connect(peer: ServerName): void;
  /** Resolves once the frame is handed to the link (for durable frames: once queued durably). */
  send(peer: ServerName, bytes: Uint8Array, delivery: FrameDelivery): Promise<void>;
  isUp(peer: ServerName): boolean;
}

/** Callbacks the transport makes into the driver (links/link-manager.ts, LinkHandlers). */
export interface FederationLinkHandlers {
  linkUp(peer: ServerName): void;
  linkDown(peer: ServerName): void;
  /** Resolves once the frame's effects are durable: only then may the link acknowledge it. */
  receive(peer: ServerName, bytes: Uint8Array): Promise<void>;
}

/** Federation storage whose writes become durable when `flush` resolves. */
export interface FlushableFederationStorage extends FederationStorage {
  flush(): Promise<void>;
  /**
   * The same writes inside a transaction of the homeserver's database that
   * the caller commits (with the round's stream events); absent when the
   * storage is not in that database.
   */
  readonly flushWithin?: TransactionWrite;
  /** True when pending writes have grown large enough to flush even without `mustSync`. */
  readonly flushWanted?: boolean;
}

/** A transport for a server without federation (`federation.enabled = false`): no peers, ever. */
export const noFederationTransport: FederationTransport = {
  connect() {},
  send: async () => {},
  isUp: () => false,
};
