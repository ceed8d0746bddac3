import { roomIdFromBytes, type ServerName } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { edgeWeight, spanningTree } from "./spanning-tree.ts";

const servers = ["a.test", "b.test", "c.test", "d.test", "e.test"] as ServerName[];
const room = roomIdFromBytes(new Uint8Array(16).fill(3));

type Pair = readonly [ServerName, ServerName];

function pairs(nodes: readonly ServerName[]): Pair[] {
  const result: Pair[] = [];
  for (let first = 0; first < nodes.length; first += 1) {
    for (let second = first + 1; second < nodes.length; second += 1) {
      result.push([nodes[first] as ServerName, nodes[second] as ServerName]);
    }
  }
  return result;
}

function edgesOf(tree: ReadonlyMap<ServerName, readonly ServerName[]>): string[] {
  const edges = new Set<string>();
  for (const [node, neighbours] of tree) {
    for (const neighbour of neighbours) edges.add([node, neighbour].sort().join("-"));
  }
  return [...edges].sort();
}

function weightNumber(pair: Pair): bigint {
  let value = 0n;
  for (const byte of edgeWeight(room, pair[0], pair[1])) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The deliberately simple definition: of all spanning forests, the one with the least total weight. */
function bruteForceForest(nodes: readonly ServerName[], live: readonly Pair[]): string[] {
  let best: { weight: bigint; edges: string[] } | undefined;
  const components = countComponents(nodes, live);
  for (let mask = 0; mask < 1 << live.length; mask += 1) {
    const chosen = live.filter((_, index) => (mask >> index) & 1);
    if (chosen.length !== nodes.length - components) continue;
    if (countComponents(nodes, chosen) !== components) continue;
    const weight = chosen.reduce((total, pair) => total + weightNumber(pair), 0n);
    if (best === undefined || weight < best.weight) {
      best = { weight, edges: chosen.map((pair) => [...pair].sort().join("-")).sort() };
    }
  }
  return best?.edges ?? [];
}

function countComponents(nodes: readonly ServerName[], edges: readonly Pair[]): number {
  const parent = new Map(nodes.map((node) => [node, node]));
  const find = (node: ServerName): ServerName => {
    let root = node;
    while (parent.get(root) !== root) root = parent.get(root) as ServerName;
    return root;
  };
  for (const [a, b] of edges) parent.set(find(a), find(b));
  return new Set(nodes.map(find)).size;
}

describe("spanning tree", () => {
  it("is the minimum spanning forest of the live links (checked against brute force)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        (count, liveFlags) => {
          const nodes = servers.slice(0, count);
          const live = pairs(nodes).filter((_, index) => liveFlags[index]);
          const isLive = (a: ServerName, b: ServerName) =>
            live.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
          const tree = spanningTree(room, nodes, isLive);
          expect(edgesOf(tree)).toEqual(bruteForceForest(nodes, live));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("does not depend on the order sponsors are listed in", () => {
    const all = () => true;
    const forward = spanningTree(room, servers, all);
    const backward = spanningTree(room, [...servers].reverse(), all);
    expect(edgesOf(backward)).toEqual(edgesOf(forward));
  });

  it("spreads different rooms over different links", () => {
    const usage = new Map<string, number>();
    const trees = new Set<string>();
    for (let number = 0; number < 200; number += 1) {
      const other = roomIdFromBytes(new Uint8Array(16).fill(number));
      const edges = edgesOf(spanningTree(other, servers.slice(0, 4), () => true));
      trees.add(edges.join(" "));
      for (const edge of edges) usage.set(edge, (usage.get(edge) ?? 0) + 1);
    }
    // Four fully linked sponsors have 16 spanning trees and 6 links; every link
    // carries some rooms and none carries all of them.
    expect(trees.size).toBeGreaterThan(10);
    expect(usage.size).toBe(6);
    for (const count of usage.values()) expect(count).toBeLessThan(200);
  });

  it("re-forms over the remaining links when one fails", () => {
    const nodes = servers.slice(0, 3);
    const before = spanningTree(room, nodes, () => true);
    const [cutA, cutB] = (edgesOf(before)[0] ?? "").split("-") as [ServerName, ServerName];
    const after = spanningTree(
      room,
      nodes,
      (a, b) => !((a === cutA && b === cutB) || (a === cutB && b === cutA)),
    );
    expect(edgesOf(after)).not.toContain(`${cutA}-${cutB}`);
    expect(edgesOf(after)).toHaveLength(2);
  });
});

describe("a one-to-one room", () => {
  it("links its two sponsors directly", () => {
    const pair = servers.slice(0, 2);
    const tree = spanningTree(room, pair, () => true);
    expect(tree.get(pair[0] as ServerName)).toEqual([pair[1]]);
    expect(tree.get(pair[1] as ServerName)).toEqual([pair[0]]);
  });
});
