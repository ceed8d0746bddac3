import { type StampedMessage, type StoredMessage, submissionKey } from "./stamped-message.ts";

/**
 * The order of a room's history, the same on every server once they hold
 * the same messages. Messages sort by
 *
 *   (controlIndex, acceptedAtMs, origin, sequence)
 *
 * Why this key:
 * - It depends only on the stamps, never on arrival order, so two servers
 *   holding the same set of messages show the same history.
 * - Control index first: a message sorts after every control entry its sponsor
 *   had applied when it accepted it (its sender's join, the MLS epoch it was
 *   encrypted for, a topic change it answers), and before entries the sponsor
 *   had not seen. Interleaving messages with control events this way is the
 *   same everywhere, because the control log is totally ordered.
 * - Accepted time next: within one control index, sponsors' clocks put
 *   messages from different sponsors in roughly real-time order. Clocks may
 *   disagree; that only shifts order among messages concurrent in the control
 *   log, which no rule depends on.
 * - Origin and sequence last: a total order without ties (an id is unique).
 *   One origin's messages keep their sequence order, because a sponsor never
 *   stamps a lower control index or an earlier time than its previous message
 *   (message-lane.ts clamps both).
 *
 * Consequence during a netsplit: a sponsor cut off from the Raft majority
 * keeps accepting at the last index it applied, so after the heal its
 * messages sort at that index, before later control entries and the
 * majority's messages stamped after them, though they may be newer in wall
 * time. That is honest: they were sent without knowledge of those entries.
 *
 * Before convergence a server shows what it holds in this order, so a
 * backfilled message can appear before messages already shown; clients read
 * the server's event stream in arrival order (its stream position) and place
 * each message by this key. Clients should mark late arrivals as such.
 */
export function compareHistoryOrder(left: StampedMessage, right: StampedMessage): number {
  if (left.controlIndex !== right.controlIndex) return left.controlIndex - right.controlIndex;
  if (left.acceptedAtMs !== right.acceptedAtMs) return left.acceptedAtMs - right.acceptedAtMs;
  if (left.origin !== right.origin) return left.origin < right.origin ? -1 : 1;
  return left.sequence - right.sequence;
}

/**
 * A room's visible history from the messages a server holds: allowed
 * messages in history order, each client message once. When a client's
 * retry was stamped twice (by two sponsors), the copy that sorts first is
 * shown and the other hidden, identically on every server.
 */
export function visibleHistory(messages: Iterable<StoredMessage>): StampedMessage[] {
  const allowed: StampedMessage[] = [];
  for (const stored of messages) {
    if (stored.verdict === "allowed") allowed.push(stored.message);
  }
  allowed.sort(compareHistoryOrder);
  const seen = new Set<string>();
  const history: StampedMessage[] = [];
  for (const message of allowed) {
    const key = submissionKey(message);
    if (seen.has(key)) continue;
    seen.add(key);
    history.push(message);
  }
  return history;
}
