import { describe, expect, it } from "vitest";
import { dayKey, dayLabel, type PlacedEvent, timelineRows } from "./day-separators.ts";

const utc = (text: string) => Date.parse(`${text}Z`);
const calendar = { nowMs: utc("2026-11-22T10:00:00"), timeZone: "UTC", locale: "en-GB" };

function message(sequence: number, at: string, sender = "alice@a"): PlacedEvent {
  return { sequence, acceptedAtMs: utc(at), runSender: sender };
}

describe("day keys and labels", () => {
  it("names the calendar day in the reader's time zone", () => {
    const lateEvening = utc("2026-11-21T23:30:00");
    expect(dayKey(lateEvening, "UTC")).toBe("2026-11-21");
    expect(dayKey(lateEvening, "Asia/Tokyo")).toBe("2026-11-22");
    expect(dayKey(lateEvening, "America/New_York")).toBe("2026-11-21");
  });

  it("says Today, Yesterday, then the date; the year only for other years", () => {
    expect(dayLabel("2026-11-22", calendar)).toBe("Today");
    expect(dayLabel("2026-11-21", calendar)).toBe("Yesterday");
    // ICU versions differ on the comma after the weekday.
    expect(dayLabel("2026-11-18", calendar)).toMatch(/^Wednesday,? 18 November$/);
    expect(dayLabel("2025-12-31", calendar)).toMatch(/^Wednesday,? 31 December 2025$/);
  });

  it("finds yesterday across a month and a year boundary", () => {
    const newYear = { ...calendar, nowMs: utc("2027-01-01T08:00:00") };
    expect(dayLabel("2026-12-31", newYear)).toBe("Yesterday");
    const march = { ...calendar, nowMs: utc("2026-03-01T08:00:00") };
    expect(dayLabel("2026-02-28", march)).toBe("Yesterday");
  });
});

describe("timeline rows", () => {
  it("puts a separator before the first event of each day, and only then", () => {
    const rows = timelineRows(
      [
        message(1, "2026-11-20T09:00:00"),
        message(2, "2026-11-20T18:00:00"),
        message(3, "2026-11-22T08:00:00"),
        message(4, "2026-11-22T08:01:00"),
      ],
      calendar,
    );
    expect(rows.map((row) => (row.kind === "day" ? row.label : row.event.sequence))).toEqual([
      expect.stringMatching(/^Friday,? 20 November$/),
      1,
      2,
      "Today",
      3,
      4,
    ]);
  });

  it("continues a sender's run only for the same sender, a few minutes apart, the same day", () => {
    const rows = timelineRows(
      [
        message(1, "2026-11-22T08:00:00", "alice@a"),
        message(2, "2026-11-22T08:02:00", "alice@a"),
        message(3, "2026-11-22T08:03:00", "bob@b"),
        message(4, "2026-11-22T08:30:00", "bob@b"),
        { sequence: 5, acceptedAtMs: utc("2026-11-22T08:31:00"), runSender: undefined },
        message(6, "2026-11-22T08:32:00", "bob@b"),
      ],
      calendar,
    );
    const runs = rows.flatMap((row) => (row.kind === "event" ? [row.continuesRun] : []));
    expect(runs).toEqual([false, true, false, false, false, false]);
  });

  it("gives every row a distinct key", () => {
    const rows = timelineRows(
      [message(1, "2026-11-21T08:00:00"), message(2, "2026-11-22T08:00:00")],
      calendar,
    );
    expect(new Set(rows.map((row) => row.key)).size).toBe(rows.length);
  });
});
