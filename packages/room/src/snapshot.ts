import {
  type CborMap,
  decodeCanonical,
  encodeCanonical,
  ParleyError,
  type UserId,
} from "@parley/protocol";
import { z } from "zod";
import { structureError } from "./entry-codec.ts";
import { roomLimits } from "./limits.ts";
import { schemas } from "./schemas.ts";
import { joinRules, type MemberRecord, memberships, type RoomState, roomKinds } from "./state.ts";

/**
 * Snapshots are the room state in canonical CBOR: sponsors compare them byte
 * for byte, Raft ships them to new sponsors, and the server stores them so a
 * restart does not replay the whole log. Members are a list sorted by user id
 * (maps in the value model are keyed by text, and order must not depend on
 * insertion history).
 */
const snapshotVersion = 1;

/**
 * A snapshot holds up to `membersMax` member tuples, so it needs more room
 * than the decoder's defaults (which are sized for single entries).
 */
const snapshotDecodeLimits = {
  totalBytesMax: 64 * 1024 * 1024,
  depthMax: 8,
  containerItemsMax: roomLimits.membersMax,
  // The longest string of a snapshot is the current epoch's ratchet tree.
  stringBytesMax: roomLimits.mlsObjectBytesMax,
};

const snapshotSchema = z.strictObject({
  version: z.literal(snapshotVersion),
  roomId: schemas.roomId,
  kind: z.enum(roomKinds),
  contentType: schemas.boundedText(roomLimits.contentTypeBytesMax),
  creator: schemas.userId,
  createdAtMs: z.number().int().min(0),
  name: schemas.boundedText(roomLimits.nameBytesMax),
  topic: schemas.boundedText(roomLimits.topicBytesMax),
  joinRule: z.enum(joinRules),
  permissions: schemas.permissions,
  serverAcl: schemas.serverAcl,
  sponsorPolicy: schemas.sponsorPolicy,
  sponsors: z.array(schemas.serverName).min(1).max(roomLimits.sponsorsMax),
  members: z
    .array(z.tuple([schemas.userId, z.enum(memberships), schemas.role, z.number().int().min(1)]))
    .max(roomLimits.membersMax),
  appliedIndex: z.number().int().min(1),
  mls: schemas.mlsGroup.optional(),
});

export function encodeRoomSnapshot(state: RoomState): Uint8Array {
  const members = [...state.members.entries()]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([user, record]) => [user, record.membership, record.role, record.sinceIndex]);
  const value = {
    version: snapshotVersion,
    roomId: state.roomId,
    kind: state.kind,
    contentType: state.contentType,
    creator: state.creator,
    createdAtMs: state.createdAtMs,
    name: state.name,
    topic: state.topic,
    joinRule: state.joinRule,
    permissions: state.permissions,
    serverAcl: state.serverAcl,
    sponsorPolicy: state.sponsorPolicy,
    sponsors: state.sponsors,
    members,
    appliedIndex: state.appliedIndex,
    // Absent in plain rooms, so their snapshots keep the bytes they always had.
    ...(state.mls === undefined ? {} : { mls: state.mls }),
  };
  return encodeCanonical(value as unknown as CborMap);
}

/** Decodes and validates a snapshot; throws `bad_encoding` or `bad_structure`. */
export function decodeRoomSnapshot(bytes: Uint8Array): RoomState {
  const result = snapshotSchema.safeParse(decodeCanonical(bytes, snapshotDecodeLimits));
  if (!result.success) throw structureError("room snapshot", result.error);
  const { version: _version, members: memberList, mls, ...settings } = result.data;
  const members = new Map<UserId, MemberRecord>();
  for (const [user, membership, role, sinceIndex] of memberList) {
    if (members.has(user)) throw new ParleyError("bad_structure", `member ${user} listed twice`);
    members.set(user, { membership, role, sinceIndex });
  }
  return mls === undefined ? { ...settings, members } : { ...settings, members, mls };
}
