import { roomIdFromBytes, type ServerName } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { attachmentPreference, chooseAttachment } from "./leaf-attachment.ts";

const sponsors = ["a.test", "b.test", "c.test"] as ServerName[];
const leaves = Array.from({ length: 300 }, (_, index) => `leaf${index}.test` as ServerName);
const room = roomIdFromBytes(new Uint8Array(16).fill(9));

describe("leaf attachment", () => {
  it("spreads leaves over the sponsors", () => {
    const counts = new Map<ServerName, number>();
    for (const leaf of leaves) {
      const choice = chooseAttachment(room, leaf, sponsors, () => true);
      if (choice !== null) counts.set(choice, (counts.get(choice) ?? 0) + 1);
    }
    for (const sponsor of sponsors) expect(counts.get(sponsor) ?? 0).toBeGreaterThan(60);
  });

  it("moves only the leaves of a failed sponsor, each to its own next choice", () => {
    const failed = sponsors[0] as ServerName;
    for (const leaf of leaves) {
      const before = chooseAttachment(room, leaf, sponsors, () => true);
      const after = chooseAttachment(room, leaf, sponsors, (sponsor) => sponsor !== failed);
      if (before !== failed) expect(after).toBe(before);
      else expect(after).toBe(attachmentPreference(room, leaf, sponsors)[1]);
    }
  });

  it("attaches nowhere when no sponsor is reachable, and never to itself", () => {
    expect(chooseAttachment(room, leaves[0] as ServerName, sponsors, () => false)).toBeNull();
    const self = sponsors[1] as ServerName;
    expect(attachmentPreference(room, self, sponsors)).not.toContain(self);
  });
});
