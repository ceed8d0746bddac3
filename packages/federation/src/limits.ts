/**
 * Every bound of the federation cores, with why it has the value it has.
 * The ones a peer must also respect (frame sizes and counts) are repeated in
 * docs/protocol.md, chapter 12; changing one of those is a protocol change.
 */

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

// ---------------------------------------------------------------------------
// Frames (what a peer may send us)
// ---------------------------------------------------------------------------

/**
 * A room snapshot inside a Raft snapshot or a control frame. The room package
 * decodes snapshots of up to 64 MiB (100,000 members); the frame must carry one.
 */
export const snapshotBytesMax = 64 * mebibyte;

/** The largest frame of any type: a snapshot plus the frame's own fields. */
export const frameBytesMax = snapshotBytesMax + mebibyte;

/**
 * Frames that never carry a snapshot (routed messages, marks, backfill,
 * heartbeats, link state, submissions). One MiB holds a full backfill batch of
 * the largest messages with room to spare, and keeps a bad peer from making us
 * decode 65 MiB of anything else.
 */
export const ordinaryFrameBytesMax = 4 * mebibyte;

/**
 * Items in one CBOR array or map of a frame. The largest legitimate array is
 * the entries of one append message: `raftAppendMessageBytesMax` divided by
 * the 16-byte minimum cost of an entry.
 */
export const frameContainerItemsMax = 16_384;

/** Nesting depth of a frame: a conf change inside an entry inside an append inside a raft frame is 9. */
export const frameDepthMax = 10;

/**
 * Raft messages in one raft frame. A server flushes once per pass; more
 * messages than this to one peer in one pass are split over several frames.
 */
export const raftMessagesPerFrameMax = 4096;

/** Soft byte budget of one raft frame when batching; a single larger message still travels alone. */
export const raftFrameBytesTarget = mebibyte;

/**
 * Heartbeats (or responses) in one heartbeat frame: one per room two servers
 * share. 8,192 rooms in common is far beyond any pair of servers we expect;
 * beyond it the batch is split.
 */
export const heartbeatsPerFrameMax = 8192;

/**
 * One application message body (an MLS PrivateMessage or a signed plain
 * message). 64 KiB: chat text and inline thumbnails; files travel apart.
 */
export const messageBodyBytesMax = 64 * kibibyte;

/** A client-chosen message id: printable, short, unique per sender. */
export const clientMessageIdBytesMax = 64;

/**
 * Servers in a routed message's path. A message crosses each sponsor at most
 * once, then one hop to a leaf; the room package caps sponsors at 31.
 */
export const routedPathServersMax = 32;

/**
 * Origins (sponsor incarnations) a room's marks may list. Every sponsor a room
 * ever had is one origin; 4,096 is a room that replaced its whole sponsor set
 * over a hundred times.
 */
export const originsPerRoomMax = 4096;

/** Messages in one backfill response: small enough to interleave with live traffic. */
export const backfillMessagesPerBatchMax = 128;

/** Control records in one control frame (catch-up for a leaf). */
export const controlRecordsPerFrameMax = 256;

/**
 * One encoded control record (a control entry plus who proposed it). An
 * encrypted room's entry carries the commit, the new epoch's GroupInfo and
 * ratchet tree, and the Welcome, each up to 1 MiB (the room package's
 * `mlsObjectBytesMax`); 3 MiB holds a large group's tree with its commit and
 * still fits a submission in an ordinary frame (4 MiB).
 */
export const controlRecordBytesMax = 3 * mebibyte;

/**
 * Bytes of records in one control frame: records are split over frames by
 * this budget as well as by count (a frame holds at least one record), so a
 * catch-up of many large MLS records does not become one huge frame.
 */
export const controlFrameRecordBytesTarget = 8 * mebibyte;

/** Servers one link-state advertisement may list as live peers. */
export const linkStatePeersMax = 4096;

/** Advertisements in one link-state frame (a full table sync on link up is split). */
export const linkStateAdvertisementsPerFrameMax = 256;

/** A refusal reason carried back to a submitter: one line. */
export const refusalReasonBytesMax = 512;

/** A request id chosen by a submitting server. */
export const requestIdMax = Number.MAX_SAFE_INTEGER;

/**
 * Users named in one KeyPackage claim: a bulk invite of a team. The client
 * API has the same bound, so one client request is one frame.
 */
export const keyPackageClaimUsersMax = 100;

/** KeyPackages in one claim result: every device of 100 users, ten devices each. */
export const keyPackageClaimPackagesMax = 1000;

/**
 * Rooms whose MLS public view a sponsor keeps loaded between commits. Beyond
 * it the least recently checked room's view is dropped and loaded again from
 * the room state when needed (tens of milliseconds at 100 devices).
 */
export const sponsorGroupsCachedMax = 256;

/** One encoded KeyPackage (docs/protocol.md §13.1). */
export const keyPackageBytesMax = 4 * kibibyte;

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/**
 * Servers whose link-state advertisements we remember. A server's peers are
 * the servers it shares rooms with; beyond this, advertisements of unknown
 * servers are ignored (their links count as down), which only costs routing
 * efficiency, never correctness: backfill repairs what routing misses.
 */
export const linkStateServersMax = 16_384;

/** Leaves attached to one sponsor for one room; more are refused so they attach elsewhere. */
export const attachedLeavesPerRoomMax = 1024;

// ---------------------------------------------------------------------------
// Message lane
// ---------------------------------------------------------------------------

/**
 * Messages received ahead of the control index they were stamped with, held
 * per room until that index applies. Beyond this the newest is dropped: the
 * high-water mark does not cover it, so backfill brings it again later.
 */
export const heldMessagesPerRoomMax = 1024;

/**
 * Sequence numbers above an origin's contiguous mark that we keep out of
 * order. Routing reorders little; a larger gap means loss, which backfill
 * repairs in order, so a message further ahead is dropped and fetched again.
 */
export const outOfOrderPerOriginMax = 1024;

/**
 * Recent (sender, client message id) pairs a sponsor remembers, so a client's
 * retry gets the original stamp instead of a second message. A retry after
 * the pair is forgotten is still hidden from every timeline (see history order).
 */
export const recentSubmissionsPerRoomMax = 4096;

/**
 * Authorization changes (member records, ACL, permissions, sponsor set) kept
 * per room to re-check messages at the control index they were stamped with.
 * Older indexes fall behind the history's horizon (see AuthorizationHistory).
 */
export const authorizationChangesPerRoomMax = 65_536;

/** Backfill pulls in flight per room, so one lagging room cannot flood a link. */
export const backfillPullsPerRoomMax = 64;

// ---------------------------------------------------------------------------
// Control lane
// ---------------------------------------------------------------------------

/**
 * Committed control records each server keeps in memory per room, for leaves
 * catching up. Older records are served as a snapshot instead.
 */
export const controlRecordsRetainedPerRoomMax = 1024;

/**
 * Bytes of those records: an encrypted room's records carry ratchet trees
 * (up to 3 MiB each), and 1,024 of those would be gigabytes. A leaf further
 * behind gets a snapshot.
 */
export const controlRecordBytesRetainedPerRoomMax = 16 * mebibyte;

/**
 * Pending sponsor-policy effects (sponsor wanted / unneeded) a room's sponsors
 * remember until the sponsor set reflects them. A room has at most 31 sponsors.
 */
export const sponsorEffectsPendingMax = 64;

/** Control proposals a server has in flight per room before refusing more (back-pressure). */
export const proposalsInFlightPerRoomMax = 256;

/**
 * Messages a leaf has submitted to its sponsor per room and awaits an answer
 * for; beyond it new ones are refused with `unavailable` (back-pressure on a
 * client flooding a room whose sponsor is unreachable).
 */
export const submissionsInFlightPerRoomMax = 1024;

/** Rooms one server takes part in (sponsor or leaf); beyond it a new one is refused. */
export const roomsPerServerMax = 1_000_000;

// ---------------------------------------------------------------------------
// Multi-raft
// ---------------------------------------------------------------------------

/** Rooms (Raft groups) one server hosts; beyond it a new group is refused with `capacity_exceeded`. */
export const groupsPerServerMax = 1_000_000;

/**
 * Ready passes per group in one processing round. A Ready loop normally ends
 * after one or two passes; the bound turns a bug into an error, not a hang.
 */
export const readyPassesPerGroupMax = 64;

/** Bytes per Raft append message: keeps frames small enough to interleave with messages. */
export const raftAppendMessageBytesMax = 256 * kibibyte;

/**
 * Raft log entries kept behind the applied index before compacting into a
 * snapshot: slow followers within this distance catch up from the log, others
 * get a snapshot.
 */
export const raftLogEntriesRetained = 1024;

/** Receipts (docs/protocol.md §12.13): rooms per frame, origins per room,
 * device steps per origin, refusals per origin. */
export const receiptRoomsPerFrameMax = 256;
export const receiptOriginsPerRoomMax = 32;
export const receiptDeviceStepsMax = 32;
export const receiptRefusalsMax = 64;

/**
 * Ticks a leaf told of an invite, or asked by a local user to follow a room,
 * stays attached although its state shows no local user: long enough to
 * catch up with the control log that says otherwise (30 s at the default
 * 100 ms tick).
 */
export const leafWakeTicks = 300;
