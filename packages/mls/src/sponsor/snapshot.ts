import { decodeCanonical, encodeCanonical, equalBytes, type RoomId } from "@parley/protocol";
import { isCborMap } from "../cbor-map.ts";
import type { MlsCrypto } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { groupIdParts } from "../group/group-id.ts";
import { decodeTree, encodeTree } from "../group/wire.ts";
import { sealedDecodeLimits } from "../storage/envelope.ts";
import { decodeContext, encodeContext, treeHash } from "../ts-mls-internals.ts";
import { checkProposal, offerGroupInfo, type SponsorGroup } from "./public-group.ts";

const snapshotVersion = 1;

/**
 * A sponsor's public view as bytes, for Raft snapshots of room state:
 *
 *     canonical CBOR { "confirmationTag": bytes, "context": bytes (GroupContext),
 *                      "groupInfo": bytes | null, "proposals": [bytes],
 *                      "tree": bytes (ratchet tree), "version": 1 }
 *
 * Deterministic: every sponsor that applied the same entries produces the
 * same bytes. Nothing here is secret.
 */
export function encodeSponsorGroup(group: SponsorGroup): Uint8Array {
  return encodeCanonical({
    confirmationTag: group.confirmationTag,
    context: encodeContext(group.context),
    groupInfo: group.groupInfo ?? null,
    proposals: [...group.proposalMessages],
    tree: encodeTree(group.tree),
    version: snapshotVersion,
  });
}

export type SponsorSnapshotLoad =
  | { readonly kind: "loaded"; readonly group: SponsorGroup }
  | MlsFailure;

/**
 * Reads a snapshot back. The tree must hash to the context's tree hash, and
 * the proposals and GroupInfo are checked again as they were when ordered;
 * the tree's signatures are not re-verified (the snapshot is the sponsor's
 * own or comes with a certificate of the sponsors that made it).
 */
export async function decodeSponsorGroup(
  crypto: MlsCrypto,
  bytes: Uint8Array,
  options: { readonly roomId: RoomId },
): Promise<SponsorSnapshotLoad> {
  const invalid = (detail: string, cause?: unknown) =>
    mlsFailure("mls_malformed", `snapshot: ${detail}`, cause);
  let value: ReturnType<typeof decodeCanonical>;
  try {
    value = decodeCanonical(bytes, sealedDecodeLimits);
  } catch (cause) {
    return invalid("not canonical CBOR", cause);
  }
  if (!isCborMap(value)) return invalid("not a map");
  const {
    confirmationTag,
    context: contextBytes,
    groupInfo,
    proposals,
    tree: treeBytes,
    version,
  } = value;
  if (version !== snapshotVersion) return invalid("unknown version");
  if (!(confirmationTag instanceof Uint8Array && contextBytes instanceof Uint8Array)) {
    return invalid("missing bytes");
  }
  if (!(treeBytes instanceof Uint8Array) || !Array.isArray(proposals)) {
    return invalid("missing tree or proposals");
  }
  if (groupInfo !== null && !(groupInfo instanceof Uint8Array)) return invalid("bad GroupInfo");
  const context = decodeContext(contextBytes);
  if (context === undefined) return invalid("bad group context");
  if (groupIdParts(context.groupId)?.roomId !== options.roomId) {
    return mlsFailure("mls_wrong_group", "snapshot of another room");
  }
  const tree = decodeTree(treeBytes);
  if (tree.kind === "failed") return tree;
  if (!equalBytes(await treeHash(tree.value, crypto.cipherSuite), context.treeHash)) {
    return invalid("the tree does not hash to the context's tree hash");
  }
  let group: SponsorGroup = {
    crypto,
    roomId: options.roomId,
    context,
    tree: tree.value,
    confirmationTag,
    proposals: {},
    proposalMessages: [],
    groupInfo: undefined,
  };
  for (const proposal of proposals as readonly unknown[]) {
    if (!(proposal instanceof Uint8Array)) return invalid("a proposal is not bytes");
    const checked = await checkProposal(group, proposal);
    if (checked.kind === "failed") return checked;
    group = checked.next;
  }
  if (groupInfo !== null) {
    const offered = await offerGroupInfo(group, groupInfo);
    if (offered.kind === "failed") return offered;
    group = offered.next;
  }
  return { kind: "loaded", group };
}
