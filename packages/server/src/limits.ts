// Every bound the homeserver's storage and process layer enforces, in one place.
// A limit exists so that no queue, batch, page or wait can grow without end; the
// comment beside each says why the number is what it is. Settings an operator
// may tune (retention, pool size) live in the configuration instead and are
// checked against the ceilings here.

/** Events in one `appendEvents` batch. One transaction holds the server-wide
 * stream lock while it runs; 256 small events insert in a few milliseconds on
 * either database, which keeps other writers' wait short. */
export const eventBatchMax = 256;

/** Events or entries in one page read (room history, stream, control log). A
 * page is held in memory and sent as one frame; 1000 keeps it well under a few
 * megabytes with bodies at their maximum typical size. */
export const pageSizeMax = 1000;

/** Rooms one user may be in (any membership), and so rooms named in one stream
 * read: a device's inbox reads the stream for its user's rooms, the list
 * becomes an `IN (...)` clause, and both databases handle a few thousand
 * parameters comfortably. The room layer refuses joins beyond it. */
export const roomsPerUserMax = 5000;

/** Bytes of one event body as stored. Clients are held to a smaller frame
 * limit at the edge; this is the storage-side assertion that nothing larger
 * slipped through (PostgreSQL bytea and SQLite BLOB both allow far more). */
export const eventBodyBytesMax = 1024 * 1024;

/** Bytes of one control-log entry or per-device queue item (MLS commits and
 * welcomes with a large ratchet tree are the biggest). */
export const controlEntryBytesMax = 4 * 1024 * 1024;

/** Bytes of one room state snapshot. A room's applied state (members, roles,
 * MLS public view) of a very large room stays below this. */
export const roomSnapshotBytesMax = 64 * 1024 * 1024;

/** Membership changes recorded together with one applied index. */
export const membershipChangesMax = 10_000;

/** Length of any identifier stored as text (room ids, user ids, device ids,
 * client-chosen ids, content types). Identifiers are short by design. */
export const identifierLengthMax = 255;

/** Items kept in one device's private queue when the configuration does not
 * say otherwise. Invites and welcomes are rare; a thousand pending means the
 * device has been gone a long time and will get a "you missed N" marker. */
export const deviceQueueItemsDefault = 1000;

/** Ceiling for the configured per-device queue length. */
export const deviceQueueItemsMax = 100_000;

/** Default age after which undelivered stream events and queue items are no
 * longer replayed to a device, which gets a "you missed N, fetch history"
 * marker instead: 30 days, the same as file expiry in the design. */
export const inboxRetentionAgeMsDefault = 30 * 24 * 60 * 60 * 1000;

/** Default number of stream events replayed to a device that comes back after
 * a long absence; older ones are summarised by a marker. A client catches up
 * on older history by paging rooms, which is cheaper than replaying a feed. */
export const inboxRetentionEventsDefault = 10_000;

/** Rows removed by one retention or expiry sweep, so a sweep never holds a
 * long transaction; the sweeper calls again while work remains. */
export const sweepRowsMax = 10_000;

/** Time a SQLite connection waits for a lock held by another process before
 * failing with SQLITE_BUSY. Write transactions are short (milliseconds), so
 * five seconds means something is wrong rather than merely busy. */
export const sqliteBusyTimeoutMs = 5000;

/** PostgreSQL connections per homeserver process by default, and the ceiling.
 * Appends serialise on one row lock, so more connections add little. */
export const postgresPoolSizeDefault = 10;
export const postgresPoolSizeMax = 100;

/** Time to wait for a PostgreSQL connection from the pool before failing a
 * request rather than queueing it forever. */
export const postgresConnectTimeoutMs = 10_000;

/** Time graceful shutdown waits for in-flight requests and writes before the
 * database is closed anyway. Systemd's default stop timeout is 90 s; we stay
 * well inside it. */
export const shutdownGraceMs = 10_000;

/** Time one /health database probe may take before the server is reported
 * unhealthy. */
export const healthProbeTimeoutMs = 2000;

/** Bytes of one HTTP request body accepted by the process server. */
export const httpBodyBytesMax = 1024 * 1024;

/** Bytes of the configuration file; a larger file is a mistake. */
export const configFileBytesMax = 1024 * 1024;

/** Background tasks (retention sweeps, later outbound deliveries) running at
 * once in one process; beyond this a new one is refused rather than queued, so
 * a stalled database cannot pile up work in memory. */
export const backgroundTasksMax = 64;

/** How often expired sessions and queue items are swept. A minute keeps the
 * tables tidy without the sweep showing up in latency. */
export const retentionSweepIntervalMs = 60_000;
