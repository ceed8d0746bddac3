// What the federation driver needs from the transport and from storage, and
// what it is given: its options, and where its events go.
// The transport is the link manager (links/link-manager.ts): one
// authenticated link per peer server, with a durable outbound queue for
// frames whose loss the protocol would only repair slowly. Storage is the
// federation core's storage plus `flush`, which makes the writes of the
// inputs handled so far durable in one transaction.

import type {
  CommitVerdict,
  FederationEvent,
  FederationHost,
  FederationStorage,
} from "@parley/federation";
import type { RoomId, ServerName } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import type { Logger } from "../../observability/logger.ts";
import type { TransactionWrite } from "../../storage/storage.ts";
import type { FrameCounts } from "../frame-counts.ts";

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

/** Checks a leaf's commit before this sponsor proposes it (docs/protocol.md §13.8). */
export type SubmittedCommitCheck = (room: RoomId, entry: ControlEntry) => Promise<CommitVerdict>;

/** Where the driver hands the host's events (the room projection). */
export interface FederationEventSink {
  handle(events: readonly FederationEvent[]): Promise<void>;
  /**
   * Handles the events with `flush` written in the same transaction, or
   * returns null when it cannot (then the driver flushes, then calls `handle`).
   */
  handleWithin?(events: readonly FederationEvent[], flush: TransactionWrite): Promise<void> | null;
}

export interface FederationDriverOptions {
  readonly host: FederationHost;
  readonly storage: FlushableFederationStorage;
  readonly transport: FederationTransport;
  readonly tickIntervalMs: number;
  readonly logger: Logger;
  /**
   * The first request id: ids must not repeat across restarts (a record
   * replayed from the log names its proposal id), so callers derive it from
   * the clock (milliseconds × 1000).
   */
  readonly firstRequestId: number;
  /** Counts every frame handed to the transport, by type (metrics). */
  readonly frameCounts?: FrameCounts;
  /** Fetches the key documents of certificate signers the core does not know yet (§12.6.1). */
  readonly wantKeys?: (servers: readonly ServerName[]) => void;
}
