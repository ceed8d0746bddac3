import type { ServerName } from "@parley/protocol";
import type { SpanningTree } from "./spanning-tree.ts";

/**
 * Where a server sends a message it has just stored (accepted itself, or
 * received for the first time): to its tree neighbours and the leaves
 * attached to it, except every server already on the message's path.
 *
 * Leaving out the whole path, not only the previous hop, keeps a message from
 * looping while sponsors' views of the tree briefly differ (a link just
 * failed or healed); a message that misses a server that way is repaired by
 * backfill. In steady state, with every sponsor holding the same tree, each
 * server receives each message exactly once: a tree has exactly one path
 * between any two sponsors, and each leaf is attached to one sponsor.
 */
export function forwardingTargets(
  self: ServerName,
  tree: SpanningTree,
  attachedLeaves: Iterable<ServerName>,
  path: readonly ServerName[],
): ServerName[] {
  const visited = new Set(path);
  visited.add(self);
  const targets: ServerName[] = [];
  for (const neighbour of tree.get(self) ?? []) {
    if (!visited.has(neighbour)) targets.push(neighbour);
    visited.add(neighbour);
  }
  for (const leaf of attachedLeaves) {
    if (!visited.has(leaf)) targets.push(leaf);
    visited.add(leaf);
  }
  return targets;
}
