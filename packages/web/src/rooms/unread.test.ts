import { describe, expect, it } from "vitest";
import { advancedMarker, unreadBadge, unreadCount } from "./unread.ts";

const me = "alice@a";
const events = [
  { type: "room-change", sequence: 1 },
  { type: "message", sequence: 2, sender: "bob@b" },
  { type: "message", sequence: 3, sender: me },
  { type: "room-change", sequence: 4 },
  { type: "message", sequence: 5, sender: "bob@b" },
  { type: "message", sequence: 6, sender: "carol@c" },
];

describe("unread counts", () => {
  it("counts messages by others after the marker, not room changes or one's own", () => {
    expect(unreadCount(events, 0, me)).toBe(3);
    expect(unreadCount(events, 2, me)).toBe(2);
    expect(unreadCount(events, 5, me)).toBe(1);
    expect(unreadCount(events, 6, me)).toBe(0);
  });

  it("moves the marker to the newest event seen, never back", () => {
    expect(advancedMarker(0, events)).toBe(6);
    expect(advancedMarker(9, events)).toBe(9);
    expect(advancedMarker(3, [])).toBe(3);
  });

  it("shows nothing for zero and caps the badge at 99+", () => {
    expect(unreadBadge(0)).toBeUndefined();
    expect(unreadBadge(7)).toBe("7");
    expect(unreadBadge(99)).toBe("99");
    expect(unreadBadge(100)).toBe("99+");
  });
});
