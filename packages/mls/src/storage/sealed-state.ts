import { type DeviceId, parseDeviceId, parseUserId, type RoomId } from "@parley/protocol";
import { type ClientState, decodeGroupState, encodeGroupState } from "ts-mls";
import { isCborMap } from "../cbor-map.ts";
import { credentialOf } from "../credential/identity.ts";
import type { MlsCrypto } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { groupIdParts } from "../group/group-id.ts";
import { memberAtLeaf } from "../group/roster.ts";
import { decodeWire } from "../group/wire.ts";
import type { KeyPackageBundle } from "../key-package/generate.ts";
import { checkKeyPackage } from "../key-package/verify.ts";
import { type MlsMember, memberFromState, ownLeafIndex } from "../member/member.ts";
import { open, seal } from "./envelope.ts";

const plaintextVersion = 1;

/**
 * Seals a member for storage (format in envelope.ts). The plaintext is
 *
 *     canonical CBOR { "groupState": bytes (ts-mls encodeGroupState),
 *                      "self": { "device": text, "user": text }, "version": 1 }
 *
 * Seal after every operation that returns a new member, and store the blob
 * before acting on the outcome (showing a message, acknowledging a delivery):
 * processing deletes the keys it used, so a replayed message then fails.
 * The client config (callbacks) is not stored; `openMemberState` re-attaches
 * the one of the MlsCrypto it is given.
 */
export function sealMemberState(member: MlsMember, key: Uint8Array): Promise<Uint8Array> {
  const plaintext = {
    groupState: encodeGroupState(member.state),
    self: { device: member.self.device, user: member.self.user },
    version: plaintextVersion,
  };
  return seal(
    member.crypto,
    { kind: "member", scope: member.roomId, sequence: member.sequence },
    plaintext,
    key,
  );
}

export type OpenedMember = { readonly kind: "opened"; readonly member: MlsMember } | MlsFailure;

/** Opens a member sealed for `roomId` with `key`; compare `member.sequence` with the last one you sealed. */
export async function openMemberState(
  crypto: MlsCrypto,
  sealed: Uint8Array,
  key: Uint8Array,
  options: { readonly roomId: RoomId },
): Promise<OpenedMember> {
  const opened = await open(crypto, { kind: "member", scope: options.roomId }, sealed, key);
  if (opened.kind === "failed") return opened;
  const invalid = (detail: string, cause?: unknown) =>
    mlsFailure("mls_sealed_state_invalid", detail, cause);
  const { plaintext } = opened;
  if (!isCborMap(plaintext)) return invalid("unknown plaintext");
  const { groupState, self, version } = plaintext;
  if (version !== plaintextVersion) return invalid("unknown plaintext version");
  if (!(groupState instanceof Uint8Array) || self === undefined || !isCborMap(self)) {
    return invalid("missing fields");
  }
  let state: ClientState;
  try {
    const decoded = decodeGroupState(groupState, 0);
    if (decoded === undefined || decoded[1] !== groupState.length) {
      return invalid("not a ts-mls group state");
    }
    state = { ...decoded[0], clientConfig: crypto.clientConfig };
  } catch (cause) {
    return invalid("not a ts-mls group state", cause);
  }
  const { device, user } = self;
  if (typeof device !== "string" || typeof user !== "string") return invalid("bad self");
  const credential = { device: parseDeviceId(device), user: parseUserId(user) };
  const member = memberFromState(crypto, credential, state, opened.sequence);
  const ownLeaf = memberAtLeaf(state.ratchetTree, ownLeafIndex(member));
  const removed = state.groupActiveState.kind === "removedFromGroup";
  if (groupIdParts(state.groupContext.groupId)?.roomId !== options.roomId) {
    return invalid("another room's group");
  }
  if (!removed && ownLeaf?.device !== credential.device) {
    return invalid("the state is not this device's");
  }
  return { kind: "opened", member };
}

/**
 * Seals a device's private KeyPackage bundles (scope: the device id):
 *
 *     canonical CBOR { "bundles": [ { "hpke": bytes, "init": bytes,
 *                      "keyPackage": bytes (MLSMessage), "signature": bytes } ],
 *                      "version": 1 }
 */
export function sealKeyPackages(
  crypto: MlsCrypto,
  device: DeviceId,
  bundles: readonly KeyPackageBundle[],
  key: Uint8Array,
): Promise<Uint8Array> {
  const plaintext = {
    bundles: bundles.map((bundle) => ({
      hpke: bundle.privatePackage.hpkePrivateKey,
      init: bundle.privatePackage.initPrivateKey,
      keyPackage: bundle.keyPackage,
      signature: bundle.privatePackage.signaturePrivateKey,
    })),
    version: plaintextVersion,
  };
  return seal(crypto, { kind: "key-packages", scope: device, sequence: 0 }, plaintext, key);
}

export type OpenedKeyPackages =
  | { readonly kind: "opened"; readonly bundles: readonly KeyPackageBundle[] }
  | MlsFailure;

/**
 * Opens sealed bundles of `device`. Each KeyPackage is checked again (expired
 * ones included: `nowMs` only decides `notAfterMs`-based pruning by the caller).
 */
export async function openKeyPackages(
  crypto: MlsCrypto,
  device: DeviceId,
  sealed: Uint8Array,
  key: Uint8Array,
): Promise<OpenedKeyPackages> {
  const opened = await open(crypto, { kind: "key-packages", scope: device }, sealed, key);
  if (opened.kind === "failed") return opened;
  const invalid = (detail: string) => mlsFailure("mls_sealed_state_invalid", detail);
  const { plaintext } = opened;
  if (!isCborMap(plaintext)) return invalid("unknown plaintext");
  const { bundles, version } = plaintext;
  if (version !== plaintextVersion) return invalid("unknown plaintext version");
  if (!Array.isArray(bundles)) return invalid("missing bundles");
  const result: KeyPackageBundle[] = [];
  for (const entry of bundles as readonly unknown[]) {
    const bundle = await bundleOf(crypto, device, entry);
    if (bundle === undefined) return invalid("a bundle does not decode");
    result.push(bundle);
  }
  return { kind: "opened", bundles: result };
}

async function bundleOf(
  crypto: MlsCrypto,
  device: DeviceId,
  entry: unknown,
): Promise<KeyPackageBundle | undefined> {
  if (
    entry === null ||
    typeof entry !== "object" ||
    Array.isArray(entry) ||
    entry instanceof Uint8Array
  )
    return undefined;
  const { hpke, init, keyPackage, signature } = entry as Record<string, unknown>;
  if (!(hpke instanceof Uint8Array && init instanceof Uint8Array)) return undefined;
  if (!(keyPackage instanceof Uint8Array && signature instanceof Uint8Array)) return undefined;
  const decoded = decodeWire(keyPackage, "mls_key_package");
  if (decoded.kind === "failed") return undefined;
  if (credentialOf(decoded.value.leafNode.credential)?.device !== device) return undefined;
  // The lifetime check is skipped by checking at the KeyPackage's own start.
  const notBeforeMs = Number(decoded.value.leafNode.lifetime.notBefore) * 1000;
  const checked = await checkKeyPackage(crypto, decoded.value, notBeforeMs);
  if (checked.kind === "failed") return undefined;
  return {
    keyPackage,
    reference: checked.keyPackage.reference,
    lastResort: checked.keyPackage.lastResort,
    notAfterMs: checked.keyPackage.notAfterMs,
    publicPackage: decoded.value,
    privatePackage: { hpkePrivateKey: hpke, initPrivateKey: init, signaturePrivateKey: signature },
  };
}
