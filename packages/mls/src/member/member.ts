import { ParleyError, type RoomId } from "@parley/protocol";
import { type ClientState, createGroupInfoWithExternalPub } from "ts-mls";
import type { DeviceCredential } from "../credential/identity.ts";
import type { MlsCrypto } from "../crypto/mls-crypto.ts";
import { groupIdParts } from "../group/group-id.ts";
import { type GroupMember, membersOf } from "../group/roster.ts";
import { encodeGroupInfo, encodeTree } from "../group/wire.ts";

/**
 * One device's membership in one room's MLS group. Immutable: every
 * operation returns a new MlsMember (or a failure) and leaves this one
 * as it was, so a caller can keep the old value until the new one is
 * persisted, and a pending commit can be dropped without undoing anything.
 *
 * Callers owe it: use each MlsMember value once (after an operation, carry
 * on with the new one; an old value would reuse message keys), seal the new
 * value before acting on its outcome (`sealMemberState`), and give it
 * handshake messages in the order the sponsors committed them.
 */
export interface MlsMember {
  readonly crypto: MlsCrypto;
  readonly roomId: RoomId;
  /** The group generation of the room (0 unless the room ever had to start a new group). */
  readonly generation: number;
  readonly self: DeviceCredential;
  /** ts-mls's state. Opaque: read it through the functions of this package. */
  readonly state: ClientState;
  /**
   * Grows by one with every new value. Stored in the sealed envelope, so a
   * caller that remembers the last sequence it sealed can refuse an older
   * blob (a rollback would make used message keys usable again).
   */
  readonly sequence: number;
}

/** Wraps a state ts-mls returned, checking it is this room's group. */
export function memberFromState(
  crypto: MlsCrypto,
  self: DeviceCredential,
  state: ClientState,
  sequence: number,
): MlsMember {
  const parts = groupIdParts(state.groupContext.groupId);
  if (parts === undefined) throw new ParleyError("internal", "not a Parley group id");
  return { crypto, roomId: parts.roomId, generation: parts.generation, self, state, sequence };
}

export function withState(member: MlsMember, state: ClientState): MlsMember {
  return { ...member, state, sequence: member.sequence + 1 };
}

export function epochOf(member: MlsMember): bigint {
  return member.state.groupContext.epoch;
}

/** The members at the current epoch, in leaf order. */
export function membersOfGroup(member: MlsMember): readonly GroupMember[] {
  return membersOf(member.state.ratchetTree);
}

export function ownLeafIndex(member: MlsMember): number {
  return member.state.privatePath.leafIndex;
}

/** False once a processed commit removed this device. */
export function isActive(member: MlsMember): boolean {
  return member.state.groupActiveState.kind === "active";
}

/**
 * A signed GroupInfo for the current epoch with the `external_pub` extension
 * (RFC 9420 §12.4.3), without the tree: what sponsors hold and serve for
 * external joins. Any member may publish one; sponsors accept it when it
 * matches the group context they computed.
 */
export async function groupInfoOf(member: MlsMember): Promise<Uint8Array> {
  const { cipherSuite } = member.crypto;
  return encodeGroupInfo(await createGroupInfoWithExternalPub(member.state, [], cipherSuite));
}

/** The current ratchet tree, encoded: what joiners need beside a Welcome or GroupInfo. */
export function ratchetTreeOf(member: MlsMember): Uint8Array {
  return encodeTree(member.state.ratchetTree);
}
