import { compareBytes, type RoomId, type ServerName, sha256 } from "@parley/protocol";

/**
 * The spanning tree of a room's sponsors, computed identically by every
 * sponsor from two inputs they agree on once link state has spread: the
 * committed sponsor set and the set of live links between sponsors.
 *
 * Algorithm (Kruskal's minimum spanning forest):
 * 1. Candidate edges are the sponsor pairs {a, b} (a < b, compared as
 *    strings: server names are ASCII, so this is byte order) whose link is live.
 * 2. Each edge's weight is SHA-256 of
 *    "parley route weight v1" 0x00 room 0x00 a 0x00 b (UTF-8). Weights are
 *    uniformly spread and differ per room, so different rooms' trees use
 *    different links and no single link carries every room.
 * 3. Sort edges by weight (bytewise), ties by (a, b); add each edge that joins
 *    two different components (union-find).
 *
 * The result is a minimum spanning forest: one tree per connected component
 * of live links (during a netsplit each side has its own tree). With n
 * sponsors it costs at most n(n-1)/2 hashes; a room has at most 31 sponsors.
 */
export type SpanningTree = ReadonlyMap<ServerName, readonly ServerName[]>;

const weightLabel = new TextEncoder().encode("parley route weight v1");
const encoder = new TextEncoder();

export function edgeWeight(room: RoomId, a: ServerName, b: ServerName): Uint8Array {
  const [low, high] = a < b ? [a, b] : [b, a];
  const parts = [weightLabel, encoder.encode(room), encoder.encode(low), encoder.encode(high)];
  const length = parts.reduce((total, part) => total + part.length + 1, -1);
  const input = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    if (offset > 0) {
      input[offset] = 0;
      offset += 1;
    }
    input.set(part, offset);
    offset += part.length;
  }
  return sha256(input);
}

interface Edge {
  readonly a: ServerName;
  readonly b: ServerName;
  readonly weight: Uint8Array;
}

/**
 * The tree: each sponsor mapped to its neighbours (sorted). A sponsor with no
 * live link to another maps to no neighbours.
 */
export function spanningTree(
  room: RoomId,
  sponsors: readonly ServerName[],
  isLive: (a: ServerName, b: ServerName) => boolean,
  weight: (a: ServerName, b: ServerName) => Uint8Array = (a, b) => edgeWeight(room, a, b),
): SpanningTree {
  const nodes = [...new Set(sponsors)].sort();
  const edges: Edge[] = [];
  for (let first = 0; first < nodes.length; first += 1) {
    for (let second = first + 1; second < nodes.length; second += 1) {
      const a = nodes[first];
      const b = nodes[second];
      if (a === undefined || b === undefined || !isLive(a, b)) continue;
      edges.push({ a, b, weight: weight(a, b) });
    }
  }
  edges.sort(compareEdges);
  const parent = new Map<ServerName, ServerName>(nodes.map((node) => [node, node]));
  // Union-find with path compression; a path is never longer than the number of nodes.
  const find = (node: ServerName): ServerName => {
    let root = node;
    for (let step = 0; step < nodes.length; step += 1) {
      const next = parent.get(root);
      if (next === undefined || next === root) break;
      root = next;
    }
    parent.set(node, root);
    return root;
  };
  const neighbours = new Map<ServerName, ServerName[]>(nodes.map((node) => [node, []]));
  for (const edge of edges) {
    const rootA = find(edge.a);
    const rootB = find(edge.b);
    if (rootA === rootB) continue;
    parent.set(rootA, rootB);
    neighbours.get(edge.a)?.push(edge.b);
    neighbours.get(edge.b)?.push(edge.a);
  }
  for (const list of neighbours.values()) list.sort();
  return neighbours;
}

function compareEdges(left: Edge, right: Edge): number {
  const byWeight = compareBytes(left.weight, right.weight);
  if (byWeight !== 0) return byWeight;
  if (left.a !== right.a) return left.a < right.a ? -1 : 1;
  if (left.b !== right.b) return left.b < right.b ? -1 : 1;
  return 0;
}
