// Every bound the homeserver's storage and process layer enforces, in one place.
// A limit exists so that no queue, batch, page or wait can grow without end; the
// comment beside each says why the number is what it is. Settings an operator
// may tune (retention, pool size) live in the configuration instead and are
// checked against the ceilings here.

/** Events in one `appendEvents` batch. One transaction holds the server-wide
 * stream lock while it runs; 256 small events insert in a few milliseconds on
 * either database, which keeps other writers' wait short. */
export const eventBatchMax = 256;

/** Group-commit rounds under way at once on SQLite: one whose WAL sync is on
 * the disk and one running its transaction (rooms/group-commit.ts). More would
 * only split the waiting events into smaller rounds, each with its own sync. */
export const sqliteCommitsInFlightMax = 2;

/** Stream acknowledgements written in one transaction. Each is a one-row
 * update; a thousand stay well within a few milliseconds and any parameter
 * limit, and a server with more devices acknowledging writes several. */
export const acknowledgementBatchMax = 1000;

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
 * slipped through (PostgreSQL bytea and SQLite BLOB both allow far more). The
 * largest bodies are control events of encrypted rooms, whose entry carries
 * the new epoch's ratchet tree (a control record is at most 3 MiB). */
export const eventBodyBytesMax = 4 * 1024 * 1024;

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

/** Prepared SQLite statements kept per connection (Kysely's multi-row inserts vary in length). */
export const sqliteStatementsCachedMax = 500;

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

/** How often expired KeyPackages are deleted unless `key_packages.sweep_interval_ms`
 * says otherwise; its own timer, so tuning it leaves the inbox sweep alone. */
export const keyPackageSweepIntervalMsDefault = 60_000;
export const keyPackageSweepIntervalMsMin = 100;
/** A day: an expired KeyPackage is never handed out, so a slower sweep only costs disk. */
export const keyPackageSweepIntervalMsMax = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// Client API (src/http and src/rooms). Rates an operator may tune are settings
// (config/settings.ts, [rate_limits]); these are the fixed bounds and defaults.

/** Bytes of one client API request body. The largest legitimate body is a
 * message: a 64 KiB room message body in base64url (about 87 KiB) plus its
 * envelope. Anything bigger is refused with `payload_too_large` before it is
 * parsed. */
export const clientRequestBytesMax = 128 * 1024;

/** Bytes of one MLS commit request (docs/protocol.md §10.13): a commit, the
 * new epoch's GroupInfo and ratchet tree, and a Welcome, in base64url, whose
 * entry must then fit a 3 MiB control record; the JSON around them is small. */
export const mlsCommitRequestBytesMax = 5 * 1024 * 1024;

/** Bytes of one WebSocket frame a client may send. Clients send only small
 * control frames (auth, acknowledgements, pings); 16 KiB leaves room for a
 * long token and future fields. Bigger frames close the socket with the
 * `payload_too_large` close code. */
export const clientFrameBytesMax = 16 * 1024;

/** Bytes of one `send` frame (a room message on the stream socket): the
 * same bound as the HTTP request that would otherwise carry the message. */
export const clientSendFrameBytesMax = clientRequestBytesMax;

/** Send frames of one socket accepted and not yet answered. A client that
 * pipelines more is told to slow down (`rate_limited`) per frame; 256 keeps a
 * group commit full without letting one socket hold the commit queue. */
export const streamSendsInFlightMax = 256;

/** The WebSocket library's own hard ceiling on one incoming frame, far above
 * clientFrameBytesMax, so an oversized frame is read and refused with our code
 * rather than cut by the library with a generic one. */
export const clientFrameBytesHardMax = 1024 * 1024;

/** Events in one stream frame sent to a device. Coalescing packs everything
 * pending for a receiver into one frame; 1000 matches the storage page size,
 * so a catch-up page is one frame too. */
export const streamFrameEventsMax = pageSizeMax;

/** Bytes a receiver's socket may have buffered before the server stops adding
 * frames to it. A slow receiver then falls behind and catches up from storage
 * with bigger, coalesced frames, instead of growing server memory. */
export const streamBufferedBytesMax = 4 * 1024 * 1024;

/** Recent stream events kept in memory for live fan-out. Receivers within this
 * window get events without a database read; anything older is read from
 * storage. 16,384 events of about 400 bytes each is about 6 MiB. */
export const streamRecentEventsMax = 16_384;

/** How long a new WebSocket has to send its auth frame. */
export const streamAuthTimeoutMs = 10_000;

/** Interval of server pings; a socket that has not answered the previous ping
 * by the next one is considered dead and closed. 30 s is below common idle
 * timeouts of proxies and NATs (60 s and up). */
export const streamHeartbeatIntervalMs = 30_000;

/** How often a device's stream acknowledgements are written. Acks come with
 * every frame under load; writing the newest one at most this often keeps the
 * database out of the delivery path. A socket's last ack is written when it
 * closes, so a reconnect always starts from it. */
export const streamAckFlushIntervalMs = 200;

/** Open WebSockets per device. A device needs one; a few allow a reconnect to
 * overlap the old socket's close. Beyond this the oldest socket is closed. */
export const streamSocketsPerDeviceMax = 4;

/** Open client WebSockets per process: bounds memory (tens of KiB each). */
export const streamSocketsMax = 50_000;

/** Messages waiting for the next group commit. Beyond this the server answers
 * `unavailable` with a retry time: the database is not keeping up, and queueing
 * more would only add latency and memory. */
export const messageCommitQueueMax = 20_000;

/** Lifetime of an access token from login or session renewal. Sessions are
 * renewed with a signed challenge, so a week keeps stolen tokens short-lived
 * without bothering users. */
export const accessTokenLifetimeMs = 7 * 24 * 60 * 60 * 1000;

/** Session activity is recorded at most this often per session, so reading a
 * token is a database read only, not a write per request. */
export const sessionTouchIntervalMs = 60_000;

/** A session challenge is valid this long: long enough for one round trip
 * from a slow phone, short enough that a captured one is soon useless. */
export const sessionChallengeLifetimeMs = 60_000;

/** Outstanding session challenges held in memory; the oldest are dropped
 * first, so a flood of challenge requests cannot grow memory. */
export const sessionChallengesMax = 100_000;

/** Remembered outcomes of room actions and room creations by client id, for
 * idempotent retries; the oldest are forgotten first. */
export const actionOutcomesRememberedMax = 100_000;

/** Distinct rate-limit keys (devices and addresses) tracked at once. A full
 * table drops its stalest buckets; a dropped key starts again with a full
 * bucket, which errs towards serving, never towards unbounded memory. */
export const rateLimitKeysMax = 100_000;

/** Default rates (tokens per second, burst = 2 seconds' worth). */
export const deviceRequestsPerSecondDefault = 50;
export const addressRequestsPerSecondDefault = 200;

/** Password and challenge attempts per address per minute: argon2 costs about
 * 20 ms of CPU and 19 MiB of memory per attempt, so this also bounds the cost
 * of a password-guessing flood. */
export const authenticationAttemptsPerMinuteDefault = 30;

/** argon2id parameters (OWASP's first recommended setting: 19 MiB, two
 * passes, one lane). */
export const passwordMemoryKibibytes = 19_456;
export const passwordTimeCost = 2;
export const passwordParallelism = 1;

/** Bytes of a password: argon2 takes any length, but hashing megabytes would
 * be a denial-of-service lever. 1024 bytes holds any passphrase. */
export const passwordBytesMax = 1024;
export const passwordBytesMin = 8;

/** Members returned in one page of GET /rooms/{roomId}/members. */
export const membersPageSizeDefault = 100;

/** Messages returned in one history page by default. */
export const historyPageSizeDefault = 50;

/** Characters of an ordered-history cursor (§10.4); a real one is under 200 (six numbers and an origin node id). */
export const historyCursorLengthMax = 512;

/** Sessions whose last activity time is remembered in memory (see sessionTouchIntervalMs). */
export const sessionsTouchTrackedMax = 100_000;

/** Frames per second one stream socket may send (acks and pings), bursts of
 * twice this. A client acks at most once per received frame; more is abuse. */
export const streamClientFramesPerSecond = 200;

/** How long a session read from the database is trusted from memory. Logout
 * and revocation in this process take effect at once regardless; the bound
 * only matters for sessions ended by another process sharing the database. */
export const sessionCacheMs = 5_000;

// ---------------------------------------------------------------------------
// Federation storage (src/federation/storage): the write-through mirror of
// the federation cores' state in the database.

/** Bytes of federation writes pending a flush beyond which `flushWanted` says
 * the caller should flush before its next input even without `mustSync`. A
 * round's writes are usually a few KiB; 8 MiB is one transaction of a few
 * milliseconds to a few tens on either database. */
export const federationPendingBytesFlushAt = 8 * 1024 * 1024;

/** Bytes of federation writes pending a flush beyond which a write throws: the
 * caller stopped flushing, and holding more would grow memory without bound.
 * It is above the largest single write (a 64 MiB Raft or leaf snapshot) with
 * room for a busy round around it. */
export const federationPendingBytesMax = 256 * 1024 * 1024;

/** Rows in one INSERT of a flush. At most 9 columns per row, so 500 rows stay
 * far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
export const federationInsertRowsMax = 500;

/** Messages one room's store holds. Every stored message of a room is in
 * memory (the store's reads are synchronous and PostgreSQL can only be read
 * asynchronously; see federation/storage/README.md), so this bounds one
 * room's share; past it a put fails with `capacity_exceeded`. */
export const federationMessagesPerRoomMax = 1_000_000;

// ---------------------------------------------------------------------------
// Operator administration (src/administration, http/admin-routes.ts).

/** Homeservers one server may block. The list is held in memory as a set for
 * a lookup per device record; 100,000 names is a few MiB. */
export const serverBlocksMax = 100_000;

/** How often the block list is re-read from storage, so a block made by
 * another process sharing the database takes effect here too. Blocks made in
 * this process apply at once. */
export const serverBlockRefreshIntervalMs = 30_000;

/** Admin API requests per second per remote address (bursts of twice this).
 * Operators script the API, but nothing legitimate needs more; the bound also
 * slows guessing of the admin token, which is 256 bits anyway. */
export const adminRequestsPerSecond = 20;

/** Uses of one invite token, and how far ahead it may expire (a year). */
export const inviteTokenUsesMax = 1_000_000;
export const inviteTokenLifetimeMsMax = 365 * 24 * 60 * 60 * 1000;

/** Bytes of an operator's note on a server block. */
export const serverBlockReasonBytesMax = 1024;

// MLS KeyPackages (src/key-packages, storage/repositories/key-packages.ts).

/**
 * One encoded KeyPackage. A Parley KeyPackage is about 330 bytes (suite 1,
 * one credential with its proof); 4 KiB is packages/mls's own bound
 * (mlsLimits.keyPackageBytesMax), repeated here for the storage layer.
 */
export const keyPackageBytesMax = 4 * 1024;

/**
 * One-time KeyPackages stored per device. A device uploads batches of up to
 * 200 (packages/mls's batch bound) and refills when low; 500 lets it top up
 * without deleting, and bounds what one device can make the server store
 * (about 170 KB).
 */
export const keyPackagesPerDeviceMax = 500;

/** One-time KeyPackages in one upload: packages/mls's batch bound. */
export const keyPackageUploadMax = 200;

/**
 * Devices whose KeyPackages one claim may take, across all users named: a
 * claim is one transaction, and a bulk invite of 100 users with a few devices
 * each must fit.
 */
export const keyPackageClaimDevicesMax = 1000;

/** Users named in one claim (client route and federation frame). */
export const keyPackageClaimUsersMax = 100;

// ---------------------------------------------------------------------------
// Signature verification on worker threads (src/verification).

/** Signature verifications waiting or running in the pool before new ones are
 * answered `unavailable`. At about 10,000 verifications a second per core,
 * 4096 is under half a second of work: a client waiting longer is better told
 * to retry than queued. */
export const signatureQueueMax = 4096;

/** The retry time a saturated pool answers with: about one batch's work. */
export const signatureRetryAfterMs = 50;

/** Messages verified on the event loop in one turn while the signature pool is
 * idle. Each takes about 0.1 ms there, a trip to the pool 0.6–1 ms on the
 * benchmark machine; and messages verified in the same turn join the same
 * commit round, where one that went to the pool waits for the next round. */
export const signatureInlinePerTurnMax = 4;

/** Room messages verified at this server's edge and not yet projected into
 * its stream (verification/verified-messages.ts). Each is projected within a
 * round or two of arriving, so this only needs to cover a burst in flight. */
export const verifiedMessagesBytesMax = 32 * 1024 * 1024;

/** Signatures verified on the pool and not yet consumed by the message path.
 * Each is consumed within the same request, so only requests in flight hold
 * entries; the bound matches the pool's queue. */
export const preverifiedSignaturesMax = 4096;

/** Delivery counts (docs/protocol.md §10.14): at most one `delivery` frame
 * per socket this often, so a busy sender costs a frame per interval, not
 * one per acknowledgement of every receiver. */
export const deliveryFrameIntervalMs = 500;

/** Receipts (docs/protocol.md §12.13) go to each peer at most this often. */
export const receiptIntervalMs = 1000;

/** Items in one `delivery` frame; the rest follow in the next interval. */
export const deliveryFrameItemsMax = 256;

/** Messages tracked per user: the newest ones; older ones keep the client's
 * last counts. */
export const deliveryTrackedPerUserMax = 1024;

/** How long after acceptance a message is tracked at most. */
export const deliveryTrackedAgeMaxMs = 7 * 24 * 60 * 60 * 1000;

/** Joined members read per room when counting. A room with more gets no
 * delivery items: counting part of it could report "every server" early. */
export const deliveryRoomMembersMax = 10 * pageSizeMax;
