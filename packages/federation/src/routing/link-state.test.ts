import type { ServerName } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { LinkStateTable } from "./link-state.ts";

const [a, b, c] = ["a.test", "b.test", "c.test"] as ServerName[] as [
  ServerName,
  ServerName,
  ServerName,
];

describe("link-state table", () => {
  it("counts a link as live only when both ends advertise it", () => {
    const table = new LinkStateTable(a, 1);
    table.setOwnLinks([b], 2);
    expect(table.isLive(a, b)).toBe(false);
    table.learn({ server: b, sequence: 5, peers: [a] });
    expect(table.isLive(a, b)).toBe(true);
    table.learn({ server: c, sequence: 5, peers: [a, b] });
    expect(table.isLive(a, c)).toBe(false);
    expect(table.isLive(b, c)).toBe(false);
  });

  it("keeps the newest advertisement of each server, and numbers its own above the clock", () => {
    const table = new LinkStateTable(a, 100);
    expect(table.learn({ server: b, sequence: 5, peers: [a] })).toBe(true);
    expect(table.learn({ server: b, sequence: 4, peers: [] })).toBe(false);
    expect(table.learn({ server: b, sequence: 5, peers: [] })).toBe(false);
    expect(table.isLive(a, b)).toBe(false);
    const own = table.setOwnLinks([b, b, a], 50);
    expect(own).toEqual({ server: a, sequence: 101, peers: [b] });
    expect(table.setOwnLinks([b], 200)).toBeNull();
    expect(table.learn({ server: a, sequence: 10_000, peers: [] })).toBe(false);
  });
});
