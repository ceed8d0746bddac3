// A room's timeline as the client holds it: events in ascending room
// sequence, each once. Events arrive from the cache, from history pages
// (newest first) and from the stream, in any order and possibly twice; the
// room sequence is the one identity they share (consecutive from 1, §10.4).

export interface Sequenced {
  readonly sequence: number;
}

/** `existing` and `incoming` merged: ascending sequence, one event per sequence (the newer copy). */
export function mergeTimeline<Event extends Sequenced>(
  existing: readonly Event[],
  incoming: readonly Event[],
): Event[] {
  if (incoming.length === 0) return [...existing];
  const bySequence = new Map<number, Event>();
  for (const event of existing) bySequence.set(event.sequence, event);
  for (const event of incoming) bySequence.set(event.sequence, event);
  return [...bySequence.values()].sort((left, right) => left.sequence - right.sequence);
}

/** The newest sequence held, 0 for none. */
export function newestSequence(events: readonly Sequenced[]): number {
  return events.at(-1)?.sequence ?? 0;
}

/** Whether the timeline holds every event from sequence 1 on, with no gap. */
export function isComplete(events: readonly Sequenced[]): boolean {
  return events.length > 0 && events[0]?.sequence === 1 && events.length === newestSequence(events);
}

/** The newest `countMax` events: what the cache keeps of a room. */
export function newestEvents<Event extends Sequenced>(
  events: readonly Event[],
  countMax: number,
): Event[] {
  return events.slice(Math.max(0, events.length - countMax));
}
