import { ParleyError } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deliveryMark, messageLine, printable } from "./chat-format.ts";

describe("chat lines on screen", () => {
  it("marks own messages by delivery state", () => {
    const acceptance = { sequence: 1, streamPosition: 1, acceptedAtMs: 0, controlIndex: 1 };
    expect(deliveryMark({ status: "pending", attempts: 1 })).toBe("…");
    expect(deliveryMark({ status: "accepted", ...acceptance })).toBe("✓");
    expect(deliveryMark({ status: "delivered", deliveredAtMs: 1, ...acceptance })).toBe("✓✓");
    const progress = {
      servers: { delivered: 2, total: 3 },
      devices: { delivered: 4, total: 9 },
      refusedBy: [{ server: "b.example", code: "forbidden" }],
    };
    expect(deliveryMark({ status: "accepted", progress, ...acceptance })).toBe(
      "✓ 2/3 servers, 4/9 devices ! refused by b.example (forbidden)",
    );
    const everywhere = { ...progress, servers: { delivered: 3, total: 3 }, refusedBy: [] };
    expect(
      deliveryMark({ status: "delivered", deliveredAtMs: 1, progress: everywhere, ...acceptance }),
    ).toBe("✓✓ 3/3 servers, 4/9 devices");
    expect(
      deliveryMark({
        status: "failed",
        attempts: 1,
        error: new ParleyError("forbidden", "not a member"),
      }),
    ).toBe("! forbidden: not a member (/retry)");
  });

  it("shows time, room and sender", () => {
    const line = messageLine({
      timeMs: new Date(2026, 0, 1, 9, 5).getTime(),
      room: "#lunch",
      sender: "bob",
      text: "hi",
    });
    expect(line).toBe("09:05 #lunch <bob> hi");
  });

  it("never lets another user's text send control characters to the terminal", () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 0x2ff }), { maxLength: 100 })
          .map((codes) => String.fromCodePoint(...codes)),
        (text) => {
          const unsafe = [...printable(text)].filter((character) => {
            const code = character.codePointAt(0) ?? 0;
            return character !== "\n" && (code < 0x20 || (code >= 0x7f && code <= 0x9f));
          });
          expect(unsafe).toEqual([]);
        },
      ),
    );
    expect(printable("\u001b[2Jgotcha")).toBe("\\x1b[2Jgotcha");
  });
});
