import type { ServerName } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { outOfOrderPerOriginMax } from "../limits.ts";
import { OriginMarks } from "./origin-marks.ts";

const origin = sponsorNodeId("a.test" as ServerName, 1);

describe("origin marks", () => {
  it("keeps a contiguous mark and the few sequences above it", () => {
    const marks = new OriginMarks();
    expect(marks.check(origin, 2)).toBe("new");
    marks.add(origin, 2);
    expect(marks.contiguous(origin)).toBe(0);
    expect(marks.highest(origin)).toBe(2);
    marks.add(origin, 1);
    expect(marks.contiguous(origin)).toBe(2);
    expect(marks.check(origin, 1)).toBe("duplicate");
    expect(marks.check(origin, 2)).toBe("duplicate");
    expect(marks.list()).toEqual([{ origin, sequence: 2 }]);
  });

  it("refuses a sequence too far ahead of the contiguous mark (backfill fetches it later)", () => {
    const marks = new OriginMarks();
    expect(marks.check(origin, outOfOrderPerOriginMax + 1)).toBe("new");
    expect(marks.check(origin, outOfOrderPerOriginMax + 2)).toBe("too-far-ahead");
  });
});
