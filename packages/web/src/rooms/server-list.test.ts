import { ParleyError } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { parseServerList, viaServersMax } from "./server-list.ts";

describe("the join dialog's server list", () => {
  it("reads names separated by commas or spaces, once each", () => {
    expect(parseServerList("")).toEqual([]);
    expect(parseServerList("  ")).toEqual([]);
    expect(parseServerList("a.example, localhost:7001 a.example")).toEqual([
      "a.example",
      "localhost:7001",
    ]);
  });

  it("refuses what is not a server name, and too many names", () => {
    expect(() => parseServerList("not a/server")).toThrow(ParleyError);
    const many = Array.from({ length: viaServersMax + 1 }, (_, index) => `s${index}.example`);
    expect(() => parseServerList(many.join(","))).toThrow(ParleyError);
  });
});
