// Unread counts: per room, the messages by other people after the room's
// read marker (the newest sequence the user has seen with the room open).
// A room seen for the first time has its marker set at its newest event, so a
// new device does not greet its user with years of "unread" history; a room
// joined while the client runs starts at the join, so what follows counts.

export interface CountedEvent {
  readonly type: string;
  readonly sequence: number;
  /** Set for messages; room changes never count as unread. */
  readonly sender?: string;
}

/** Messages from others after `readThrough`. */
export function unreadCount(
  events: readonly CountedEvent[],
  readThrough: number,
  ownUserId: string,
): number {
  let count = 0;
  for (const event of events) {
    if (event.sequence > readThrough && event.type === "message" && event.sender !== ownUserId) {
      count += 1;
    }
  }
  return count;
}

/** The marker after the user looked at a room holding `events`: never moves back. */
export function advancedMarker(readThrough: number, events: readonly CountedEvent[]): number {
  return Math.max(readThrough, events.at(-1)?.sequence ?? 0);
}

/** How an unread count is shown on the room list: nothing, the count, or 99+. */
export function unreadBadge(count: number): string | undefined {
  if (count <= 0) return undefined;
  return count > 99 ? "99+" : String(count);
}
