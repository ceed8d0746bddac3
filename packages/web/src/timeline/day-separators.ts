// Lays a room's events out as rows: a separator before the first event of
// each calendar day (in the reader's time zone), and each message marked as
// continuing its sender's run when the previous row is a message by the same
// sender a few minutes earlier, so the sender's name is not repeated on every
// line. Pure: time zone and locale are parameters, so tests pin them.

/** Messages closer than this to the previous one by the same sender share its heading. */
export const senderRunGapMs = 5 * 60_000;

export interface PlacedEvent {
  readonly sequence: number;
  readonly acceptedAtMs: number;
  /** The sender for a message; undefined for events that never continue a run. */
  readonly runSender: string | undefined;
}

export type TimelineRow<Event> =
  | { readonly kind: "day"; readonly key: string; readonly label: string }
  | {
      readonly kind: "event";
      readonly key: string;
      readonly event: Event;
      /** Same sender as the message just above, within `senderRunGapMs`, same day. */
      readonly continuesRun: boolean;
    };

export interface CalendarOptions {
  readonly nowMs: number;
  /** IANA time zone; default the reader's. */
  readonly timeZone?: string;
  /** BCP 47 locale for day names; default the reader's. */
  readonly locale?: string;
}

/** The calendar day of `ms` in the time zone, as YYYY-MM-DD. */
export function dayKey(ms: number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? "00";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** The day before a YYYY-MM-DD key, by the calendar (not 24 hours back, which DST can break). */
function previousDayKey(key: string): string {
  const [year, month, day] = key.split("-").map(Number);
  const date = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, (day ?? 1) - 1));
  return date.toISOString().slice(0, 10);
}

/** "Today", "Yesterday", or the date spelled out (the year only when it is not this year's). */
export function dayLabel(key: string, options: CalendarOptions): string {
  const today = dayKey(options.nowMs, options.timeZone);
  if (key === today) return "Today";
  if (key === previousDayKey(today)) return "Yesterday";
  const [year, month, day] = key.split("-").map(Number);
  // Noon UTC of that date names the same calendar day in every time zone's format below.
  const noon = Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1, 12);
  return new Intl.DateTimeFormat(options.locale, {
    timeZone: "UTC",
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(key.slice(0, 4) === today.slice(0, 4) ? {} : { year: "numeric" }),
  }).format(noon);
}

/** The rows for events in timeline order (ascending sequence). */
export function timelineRows<Event extends PlacedEvent>(
  events: readonly Event[],
  options: CalendarOptions,
): TimelineRow<Event>[] {
  const rows: TimelineRow<Event>[] = [];
  let currentDay: string | undefined;
  let previous: Event | undefined;
  for (const event of events) {
    const day = dayKey(event.acceptedAtMs, options.timeZone);
    let sameDay = true;
    if (day !== currentDay) {
      rows.push({ kind: "day", key: `day-${day}`, label: dayLabel(day, options) });
      currentDay = day;
      sameDay = false;
    }
    const continuesRun =
      sameDay &&
      previous !== undefined &&
      event.runSender !== undefined &&
      previous.runSender === event.runSender &&
      event.acceptedAtMs - previous.acceptedAtMs < senderRunGapMs;
    rows.push({ kind: "event", key: `event-${event.sequence}`, event, continuesRun });
    previous = event;
  }
  return rows;
}
