/**
 * Every bound the room state machine enforces, in one place. A control entry
 * that breaks one is rejected by every sponsor identically, so these numbers
 * are part of the protocol: changing one is a protocol change.
 */
export const roomLimits = {
  /** Room names are shown in room lists; 255 UTF-8 bytes is plenty and keeps lists cheap. */
  nameBytesMax: 255,
  /** Topics may hold a paragraph and a few links, not a document. */
  topicBytesMax: 4096,
  /** MIME-like content type strings, as in HTTP, are short. */
  contentTypeBytesMax: 255,
  /** Reasons for kicks, bans and knocks are one line for moderators to read. */
  reasonBytesMax: 1024,
  /** ACL patterns: enough for a large block list, small enough to check every message cheaply. */
  serverAclPatternsMax: 512,
  /** One server name is at most 255 bytes plus a port, so a pattern needs no more. */
  serverAclPatternBytesMax: 262,
  /** Members of one room (every membership state counts, bans included). */
  membersMax: 100_000,
  /** Sponsors run one Raft group; more than a few dozen voters make every commit slow. */
  sponsorsMax: 31,
  /**
   * One MLS object in an entry (commit, GroupInfo, ratchet tree, Welcome).
   * The ratchet tree is the one that grows, by about 321 bytes per device
   * (docs/protocol.md §10.13), so 1 MiB holds the tree of a group of about
   * 3,200 devices; the federation's control record (3 MiB) bounds the sum.
   */
  mlsObjectBytesMax: 1024 * 1024,
  /** Devices one commit may add: MLS's 500 proposals per commit (docs/protocol.md §13.6). */
  mlsDevicesAddedMax: 500,
} as const;

/** UTF-8 length, since limits are in bytes on the wire, not in UTF-16 code units. */
export function utf8ByteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
