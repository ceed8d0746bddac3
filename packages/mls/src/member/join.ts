import { equalBytes, type RoomId } from "@parley/protocol";
import { createGroup, emptyPskIndex, joinGroup } from "ts-mls";
import type { DeviceIdentity } from "../credential/identity.ts";
import { type MlsCrypto, parleyCipherSuiteName } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { groupIdOf, groupIdParts } from "../group/group-id.ts";
import { decodeTree, decodeWire } from "../group/wire.ts";
import {
  credentialOfBundle,
  generateKeyPackage,
  type KeyPackageBundle,
} from "../key-package/generate.ts";
import { failureFromLibrary } from "./failure.ts";
import { groupInfoOf, type MlsMember, memberFromState, ratchetTreeOf } from "./member.ts";

export interface CreatedGroup {
  readonly member: MlsMember;
  /** Epoch 0's GroupInfo and tree: the sponsors' public view starts from these. */
  readonly groupInfo: Uint8Array;
  readonly ratchetTree: Uint8Array;
}

/**
 * Creates the MLS group of a room with this device as its only member
 * (epoch 0). The group id is derived from the room id (group/group-id.ts).
 */
export async function createRoomGroup(
  crypto: MlsCrypto,
  identity: DeviceIdentity,
  options: { readonly roomId: RoomId; readonly nowMs: number; readonly generation?: number },
): Promise<CreatedGroup> {
  const bundle = await generateKeyPackage(crypto, identity, { nowMs: options.nowMs });
  const state = await createGroup(
    groupIdOf(options.roomId, options.generation ?? 0),
    bundle.publicPackage,
    bundle.privatePackage,
    [],
    crypto.cipherSuite,
    crypto.clientConfig,
  );
  const member = memberFromState(crypto, credentialOfBundle(bundle), state, 0);
  return { member, groupInfo: await groupInfoOf(member), ratchetTree: ratchetTreeOf(member) };
}

export type JoinOutcome =
  | {
      readonly kind: "joined";
      readonly member: MlsMember;
      /** The bundle the Welcome used: delete it unless it is the last-resort one. */
      readonly usedKeyPackage: KeyPackageBundle;
    }
  | MlsFailure;

/**
 * Joins a room's group from a Welcome (RFC 9420 §12.4.3.1) and the ratchet
 * tree sent beside it. ts-mls checks the GroupInfo signature, the whole tree
 * (every leaf's signature and Parley credential, parent hashes) against the
 * tree hash, and the confirmation tag; Parley checks that the group is the
 * room's. `keyPackages` are the device's unused bundles; the Welcome names one.
 */
export async function joinFromWelcome(
  crypto: MlsCrypto,
  options: {
    readonly roomId: RoomId;
    readonly welcome: Uint8Array;
    readonly ratchetTree: Uint8Array;
    readonly keyPackages: readonly KeyPackageBundle[];
  },
): Promise<JoinOutcome> {
  const welcome = decodeWire(options.welcome, "mls_welcome");
  if (welcome.kind === "failed") return welcome;
  if (welcome.value.cipherSuite !== parleyCipherSuiteName) {
    return mlsFailure("mls_rule_violation", "the Welcome is not for Parley's cipher suite");
  }
  const bundle = options.keyPackages.find((candidate) =>
    welcome.value.secrets.some((secret) => equalBytes(secret.newMember, candidate.reference)),
  );
  if (bundle === undefined) {
    return mlsFailure("mls_not_member", "the Welcome is for none of these KeyPackages");
  }
  const tree = decodeTree(options.ratchetTree);
  if (tree.kind === "failed") return tree;
  try {
    const state = await joinGroup(
      welcome.value,
      bundle.publicPackage,
      bundle.privatePackage,
      emptyPskIndex,
      crypto.cipherSuite,
      tree.value,
      undefined,
      crypto.clientConfig,
    );
    if (groupIdParts(state.groupContext.groupId)?.roomId !== options.roomId) {
      return mlsFailure("mls_wrong_group", "the Welcome is for another room's group");
    }
    return {
      kind: "joined",
      member: memberFromState(crypto, credentialOfBundle(bundle), state, 0),
      usedKeyPackage: bundle,
    };
  } catch (thrown) {
    return failureFromLibrary(thrown, "joining from a Welcome");
  }
}
