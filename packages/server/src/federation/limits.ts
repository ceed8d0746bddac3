// Bounds of the homeserver's federation wiring (the driver around
// FederationHost and the projection of its events). The wire limits of
// federation frames live in @parley/federation's limits.

/** The tick of the federation core when the configuration says nothing (Raft timers count these). */
export const federationTickIntervalMsDefault = 100;

/**
 * Inputs waiting for the driver (received frames, local requests, link
 * events). Past it a local request is answered `unavailable` and a received
 * frame is not acknowledged (its link sends it again later).
 */
export const driverInputsQueuedMax = 50_000;

/**
 * Inputs handled before one storage flush: a busy server shares one flush
 * (one transaction, one fsync) among this many inputs (group commit).
 */
export const driverInputsPerFlushMax = 1024;

/**
 * Rounds of messages whose transaction is under way at once (round-pipeline.ts):
 * one waiting for its disk sync while the next runs. Matches the group
 * committer's rounds in flight on SQLite; more would only split rounds.
 */
export const driverRoundsInFlightMax = 2;

/** Local requests waiting for their outcome (a committed entry, a sponsor's answer). */
export const driverRequestsPendingMax = 100_000;

/**
 * A leaf asked to join a room through other servers waits this long for the
 * room's state to arrive before answering `unavailable`.
 */
export const followReadyTimeoutMs = 15_000;

/**
 * A message a sponsor accepted for a leaf's user is normally stored here
 * before the answer arrives (both come over the same link, the message
 * first); the answer waits this long for it before saying `unavailable`.
 */
export const acceptedMessageArrivalTimeoutMs = 10_000;

/** Servers named in a join's `via` list. */
export const joinViaServersMax = 8;

/**
 * At start, messages the federation core holds that are at most this much
 * older than their room's newest stream event are projected again (a crash
 * between the core's flush and the projection loses the core's report of
 * the newest messages; see RoomProjection.repairRecent).
 */
export const projectionRepairWindowMs = 60_000;

/**
 * Every this many ticks (5 s at the default tick) the driver dials the
 * servers of every room it takes part in whose link is down.
 */
export const linkUpkeepTicks = 50;

/**
 * A KeyPackage claim from another server waits this long for the link and
 * the peer's answer, together, when the configuration says nothing; then the
 * users of that server are answered `unavailable`.
 */
export const keyPackageClaimTimeoutMsDefault = 10_000;

/** KeyPackage claims to other servers waiting for an answer, over all peers. */
export const keyPackageClaimsPendingMax = 10_000;
