import type { DeviceId } from "@parley/protocol";
import type { RatchetTree } from "ts-mls";
import { credentialOf, type DeviceCredential } from "../credential/identity.ts";

/** One member of a group: a device at a leaf of the ratchet tree. */
export interface GroupMember extends DeviceCredential {
  readonly leafIndex: number;
}

/**
 * Every non-blank leaf with its Parley identity, in leaf order. Leaves whose
 * credential is not a Parley credential cannot be in a valid tree (every
 * credential is checked on entry), so they are skipped rather than invented.
 */
export function membersOf(tree: RatchetTree): GroupMember[] {
  const members: GroupMember[] = [];
  for (let nodeIndex = 0; nodeIndex < tree.length; nodeIndex += 2) {
    const member = memberAtNode(tree, nodeIndex);
    if (member !== undefined) members.push(member);
  }
  return members;
}

export function memberAtLeaf(tree: RatchetTree, leafIndex: number): GroupMember | undefined {
  return memberAtNode(tree, leafIndex * 2);
}

export function leafOfDevice(tree: RatchetTree, device: DeviceId): number | undefined {
  return membersOf(tree).find((member) => member.device === device)?.leafIndex;
}

function memberAtNode(tree: RatchetTree, nodeIndex: number): GroupMember | undefined {
  const node = tree[nodeIndex];
  if (node?.nodeType !== "leaf") return undefined;
  const credential = credentialOf(node.leaf.credential);
  if (credential === undefined) return undefined;
  return { ...credential, leafIndex: nodeIndex / 2 };
}
