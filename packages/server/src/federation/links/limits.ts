// Every bound of the server-to-server links, with why it has its value. The
// ones a peer must respect are repeated in docs/protocol.md §12.10. An
// operator (or a test) may pass other values through `LinkLimits`.

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

export interface LinkLimits {
  /** Bytes of one federation frame carried by a link: the largest frame of §12.2.1 (raft and control, 65 MiB). */
  readonly payloadBytesMax: number;
  /** Bytes of one handshake or error frame: they hold names, nonces, keys and one signature. */
  readonly handshakeFrameBytesMax: number;
  /** Durable frames queued for one peer; beyond it `send` refuses with `capacity_exceeded`. */
  readonly queueFramesMax: number;
  /** Bytes of durable frames queued for one peer; beyond it `send` refuses with `capacity_exceeded`. */
  readonly queueBytesMax: number;
  /** Durable frames written in one transaction. */
  readonly enqueueBatchFramesMax: number;
  /** Durable frames sent and not yet acknowledged on one link (the sender's window). */
  readonly inFlightFramesMax: number;
  /** Bytes of durable frames sent and not yet acknowledged on one link. */
  readonly inFlightBytesMax: number;
  /** Frames handed to the receive handler and not yet resolved, per peer. */
  readonly receiveWindowFrames: number;
  /** Queued frames read from the database at once when the memory copy was not kept. */
  readonly queueReadPageFrames: number;
  /** Bytes of queued frames also kept in memory per peer, so sending rarely reads the database. */
  readonly queueMemoryBytesMax: number;
  /** Time a connection may take from open to an authenticated link. */
  readonly handshakeTimeoutMs: number;
  /** Largest accepted difference between a handshake's signed time and the verifier's clock, either way. */
  readonly clockSkewMaxMs: number;
  /** Interval of WebSocket pings on an idle or busy link. */
  readonly heartbeatIntervalMs: number;
  /** A link that answered no ping for this long is declared down. */
  readonly heartbeatTimeoutMs: number;
  /** A durable frame unacknowledged this long on an up link is sent again (go-back-N). */
  readonly retransmitTimeoutMs: number;
  /** First reconnect delay after a failed or lost link. */
  readonly reconnectDelayMinMs: number;
  /** Ceiling of the doubling reconnect delay. */
  readonly reconnectDelayMaxMs: number;
  /** First refusal period for a peer that sent garbage; doubles per offence. */
  readonly throttleMinMs: number;
  /** Ceiling of the doubling refusal period. */
  readonly throttleMaxMs: number;
  /** Failed unauthenticated connections from one address before the address is refused too. */
  readonly addressFailuresBeforeThrottle: number;
  /** Peers and addresses remembered by the throttle; the oldest are forgotten first. */
  readonly throttleEntriesMax: number;
  /** Connections (inbound and outbound, authenticated or not) open at once. */
  readonly connectionsMax: number;
  /** Time `close` waits for queue writes and sockets before giving up on them. */
  readonly closeGraceMs: number;
}

export const defaultLinkLimits: LinkLimits = {
  // §12.2.1: a raft or control frame may carry a 64 MiB room snapshot.
  payloadBytesMax: 65 * mebibyte,
  handshakeFrameBytesMax: 4 * kibibyte,
  // A peer gone for a day at 100 durable frames per second stays below this.
  queueFramesMax: 1_000_000,
  // One GiB of disk per unreachable peer is the most an operator should find
  // used without having been told (the queue-depth metric warns long before).
  queueBytesMax: 1024 * mebibyte,
  // One transaction of 256 small frames takes a few milliseconds on SQLite.
  enqueueBatchFramesMax: 256,
  // Enough to fill a loopback or LAN link while acks are in flight.
  inFlightFramesMax: 1024,
  inFlightBytesMax: 16 * mebibyte,
  receiveWindowFrames: 256,
  queueReadPageFrames: 256,
  queueMemoryBytesMax: 16 * mebibyte,
  handshakeTimeoutMs: 10_000,
  // docs/protocol.md §1.3: a signer's clock may differ by five minutes.
  clockSkewMaxMs: 300_000,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 45_000,
  retransmitTimeoutMs: 60_000,
  reconnectDelayMinMs: 500,
  reconnectDelayMaxMs: 60_000,
  throttleMinMs: 10_000,
  throttleMaxMs: 3_600_000,
  addressFailuresBeforeThrottle: 16,
  throttleEntriesMax: 10_000,
  connectionsMax: 4096,
  closeGraceMs: 10_000,
};
