import { compareBytes, type RoomId, type ServerName, sha256 } from "@parley/protocol";

/**
 * Which sponsor a leaf server attaches to for a room: rendezvous (highest
 * random weight) hashing. Each candidate sponsor scores
 * SHA-256("parley attach v1" 0x00 room 0x00 leaf 0x00 sponsor); the leaf
 * attaches to the highest-scoring sponsor it has a live link to.
 *
 * Why rendezvous hashing: the choice needs no coordination (every party can
 * compute it), spreads a room's leaves evenly over its sponsors, and when a
 * sponsor fails only the leaves attached to it move (each to its own next
 * choice), while the others stay put. When the failed sponsor comes back its
 * leaves move back, which costs one attach and one marks exchange.
 *
 * A server that sponsors the room is never a leaf of it: it routes as part of
 * the tree instead.
 */
const attachLabel = new TextEncoder().encode("parley attach v1");
const encoder = new TextEncoder();

export function attachmentScore(room: RoomId, leaf: ServerName, sponsor: ServerName): Uint8Array {
  const parts = [encoder.encode(room), encoder.encode(leaf), encoder.encode(sponsor)];
  let length = attachLabel.length;
  for (const part of parts) length += 1 + part.length;
  const input = new Uint8Array(length);
  input.set(attachLabel, 0);
  let offset = attachLabel.length;
  for (const part of parts) {
    input[offset] = 0;
    input.set(part, offset + 1);
    offset += 1 + part.length;
  }
  return sha256(input);
}

/** Candidate sponsors in the leaf's order of preference (best first). */
export function attachmentPreference(
  room: RoomId,
  leaf: ServerName,
  sponsors: readonly ServerName[],
): ServerName[] {
  const scored = sponsors
    .filter((sponsor) => sponsor !== leaf)
    .map((sponsor) => ({ sponsor, score: attachmentScore(room, leaf, sponsor) }));
  scored.sort((left, right) => compareBytes(right.score, left.score));
  return scored.map((entry) => entry.sponsor);
}

/** The sponsor to attach to, or null when no sponsor is reachable. */
export function chooseAttachment(
  room: RoomId,
  leaf: ServerName,
  sponsors: readonly ServerName[],
  isReachable: (sponsor: ServerName) => boolean,
): ServerName | null {
  for (const sponsor of attachmentPreference(room, leaf, sponsors)) {
    if (isReachable(sponsor)) return sponsor;
  }
  return null;
}
