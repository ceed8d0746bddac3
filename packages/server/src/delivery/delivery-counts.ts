// How far one tracked message has come (docs/protocol.md §10.14): how many of
// the room's servers hold it and how many of the room's devices have
// acknowledged it. Pure, so the rules are tested on their own; the tracker
// gathers the inputs.

/** What the sender's server knows of a room's audience at one moment. */
export interface RoomAudience {
  /** Servers with a joined member of the room. */
  readonly servers: ReadonlySet<string>;
  /**
   * Acknowledged stream positions of this server's live devices of the
   * room's joined members, ascending (one per device).
   */
  readonly localCursorsAscending: readonly number[];
  /** The same devices by id, to leave the sending device out. */
  readonly localCursorByDevice: ReadonlyMap<string, number>;
}

/** A message this server accepted from one of its users and reports on. */
export interface TrackedMessage {
  readonly roomId: string;
  /** Its position in this server's stream: the `position` of the delivery item. */
  readonly position: number;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
  /** The server of the sponsor that stamped it, which holds it too. */
  readonly stampingServer: string | null;
  /** Its id in the message lane (§12.1): receipts are per origin and sequence. Null: not stamped. */
  readonly origin: string | null;
  readonly originSequence: number;
  readonly acceptedAtMs: number;
}

export interface Tally {
  readonly delivered: number;
  readonly total: number;
}

export interface DeliveryCounts {
  readonly servers: Tally;
  readonly devices: Tally;
}

/** The number of ascending `values` at or above `threshold`. */
function countAtLeast(valuesAscending: readonly number[], threshold: number): number {
  let low = 0;
  let high = valuesAscending.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((valuesAscending[middle] ?? 0) < threshold) low = middle + 1;
    else high = middle;
  }
  return valuesAscending.length - low;
}

/** The newest receipt of one server for one origin (§12.13), as far as counting needs it. */
export interface ReceiptFigures {
  readonly held: number;
  readonly devices: ReadonlyArray<readonly [number, number]>;
  readonly devicesTotal: number;
}

/** Receipts of a room: server → origin → newest receipt. */
export type RoomReceiptFigures = ReadonlyMap<string, ReadonlyMap<string, ReceiptFigures>>;

/** What a step list says of one sequence: the count of the first step at or beyond it (0 if none). */
export function devicesCovering(
  steps: ReadonlyArray<readonly [number, number]>,
  sequence: number,
): number {
  for (const [stepSequence, count] of steps) if (stepSequence >= sequence) return count;
  return 0;
}

/**
 * The counts for `message` given what this server (`ownServer`) knows now:
 * its own devices directly, other servers through their receipts (§12.13).
 * Before a server's receipt arrives it counts as holding the message only if
 * it stamped it, and its devices are in no total yet.
 */
export function countDelivery(
  message: TrackedMessage,
  audience: RoomAudience,
  ownServer: string,
  receipts: RoomReceiptFigures = new Map(),
): DeliveryCounts {
  let serversDelivered = 0;
  let remoteDelivered = 0;
  let remoteTotal = 0;
  for (const server of audience.servers) {
    const receipt =
      server === ownServer || message.origin === null
        ? undefined
        : receipts.get(server)?.get(message.origin);
    const holds =
      server === ownServer ||
      server === message.stampingServer ||
      (receipt !== undefined && receipt.held >= message.originSequence);
    if (holds) serversDelivered += 1;
    if (receipt !== undefined) {
      remoteTotal += receipt.devicesTotal;
      remoteDelivered += devicesCovering(receipt.devices, message.originSequence);
    }
  }
  const senderCursor = audience.localCursorByDevice.get(message.senderDeviceId);
  const senderCounted = senderCursor !== undefined;
  const senderDelivered = senderCursor !== undefined && senderCursor >= message.position;
  const devicesTotal = audience.localCursorsAscending.length - (senderCounted ? 1 : 0);
  const devicesDelivered =
    countAtLeast(audience.localCursorsAscending, message.position) - (senderDelivered ? 1 : 0);
  return {
    servers: { delivered: serversDelivered, total: audience.servers.size },
    devices: {
      delivered: devicesDelivered + remoteDelivered,
      total: devicesTotal + remoteTotal,
    },
  };
}

/**
 * Counts never go back (§10.14): a device that left, or a server whose last
 * member left, keeps counting for a message it already had.
 */
export function mergeCounts(before: DeliveryCounts | null, now: DeliveryCounts): DeliveryCounts {
  if (before === null) return now;
  const merge = (left: Tally, right: Tally): Tally => {
    const delivered = Math.max(left.delivered, right.delivered);
    return { delivered, total: Math.max(left.total, right.total, delivered) };
  };
  return {
    servers: merge(before.servers, now.servers),
    devices: merge(before.devices, now.devices),
  };
}

export function sameCounts(left: DeliveryCounts, right: DeliveryCounts): boolean {
  return (
    left.servers.delivered === right.servers.delivered &&
    left.servers.total === right.servers.total &&
    left.devices.delivered === right.devices.delivered &&
    left.devices.total === right.devices.total
  );
}

/** Every server and every device has it: nothing more can change. */
export function isComplete(counts: DeliveryCounts): boolean {
  return (
    counts.servers.delivered >= counts.servers.total &&
    counts.devices.delivered >= counts.devices.total
  );
}
