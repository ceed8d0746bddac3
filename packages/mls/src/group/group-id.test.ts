import { roomIdFromBytes } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { groupIdOf, groupIdParts } from "./group-id.ts";

describe("group ids", () => {
  test("name their room and generation, and nothing else parses", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat({ max: 0xffff_ffff }),
        (bytes, generation) => {
          const roomId = roomIdFromBytes(bytes);
          expect(groupIdParts(groupIdOf(roomId, generation))).toEqual({ roomId, generation });
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const parts = groupIdParts(bytes);
        if (parts !== undefined) expect(groupIdOf(parts.roomId, parts.generation)).toEqual(bytes);
      }),
    );
  });

  test("the format is fixed: prefix, room id bytes, big-endian generation", () => {
    const roomId = roomIdFromBytes(new Uint8Array(16).fill(0xab));
    const bytes = groupIdOf(roomId, 258);
    expect(new TextDecoder().decode(bytes.subarray(0, 14))).toBe("parley/v1/mls/");
    expect([...bytes.subarray(30)]).toEqual([0, 0, 1, 2]);
    expect(() => groupIdOf(roomId, -1)).toThrow();
  });
});
