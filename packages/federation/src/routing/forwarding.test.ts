import { roomIdFromBytes, type ServerName } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forwardingTargets } from "./forwarding.ts";
import { spanningTree } from "./spanning-tree.ts";

const sponsors = ["a.test", "b.test", "c.test", "d.test", "e.test", "f.test"] as ServerName[];
const leaves = ["x.test", "y.test", "z.test"] as ServerName[];

describe("forwarding over a tree", () => {
  it("delivers each message to every sponsor and leaf exactly once", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: sponsors.length - 1 }),
        fc.array(fc.integer({ min: 0, max: sponsors.length - 1 }), {
          minLength: leaves.length,
          maxLength: leaves.length,
        }),
        (seed, origin, attachments) => {
          const room = roomIdFromBytes(new Uint8Array(16).fill(seed));
          const tree = spanningTree(room, sponsors, () => true);
          const attached = (sponsor: ServerName) =>
            leaves.filter((_, index) => sponsors[attachments[index] ?? 0] === sponsor);
          const received = new Map<ServerName, number>();
          const start = sponsors[origin] as ServerName;
          const queue: Array<{ at: ServerName; path: ServerName[] }> = [
            { at: start, path: [start] },
          ];
          for (let step = 0; step < 100 && queue.length > 0; step += 1) {
            const { at, path } = queue.shift() as { at: ServerName; path: ServerName[] };
            if (leaves.includes(at)) continue;
            const previous = path.slice(0, -1);
            for (const target of forwardingTargets(at, tree, attached(at), [...previous, at])) {
              received.set(target, (received.get(target) ?? 0) + 1);
              queue.push({ at: target, path: [...path, target] });
            }
          }
          for (const server of [...sponsors, ...leaves]) {
            expect(received.get(server) ?? 0).toBe(server === start ? 0 : 1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never sends a message back to a server on its path", () => {
    const room = roomIdFromBytes(new Uint8Array(16));
    const tree = spanningTree(room, sponsors, () => true);
    const self = sponsors[0] as ServerName;
    const neighbours = tree.get(self) ?? [];
    const targets = forwardingTargets(self, tree, [], [...neighbours, self]);
    expect(targets).toEqual([]);
  });
});
