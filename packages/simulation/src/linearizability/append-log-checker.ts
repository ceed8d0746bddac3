import { ensure } from "../misuse.ts";
import { type Operation, validateHistory } from "./history.ts";

/**
 * Requests to append-only logs (a room's timeline, a Raft log as clients see
 * it). Each append carries an entry unique in its log: record a retried
 * request as one operation from its first call to its last return.
 */
export type LogCall =
  | { readonly kind: "append"; readonly log: string; readonly entry: string }
  | { readonly kind: "read"; readonly log: string };

export type LogResult =
  | { readonly kind: "append" }
  | { readonly kind: "read"; readonly entries: readonly string[] };

export type LogOperation = Operation<LogCall, LogResult>;

export type AppendLogResult =
  | { readonly verdict: "linearizable" }
  | {
      readonly verdict: "not-linearizable";
      readonly log: string;
      /** What is wrong, in a sentence naming the operations. */
      readonly problem: string;
      /** Ids of the operations the problem names. */
      readonly operations: readonly number[];
    };

type Violation = { readonly problem: string; readonly operations: readonly number[] };

/**
 * Checks append-only log histories in O(n log n) per log, without search.
 * In any linearization, a read returns exactly the appends before it, so:
 * every read is a prefix of one total order (the longest read); no entry
 * appears twice or without an append; and the order is then forced — the
 * append at position p, then the reads of length p, then the append at p+1,
 * and appends nobody read after all reads. Only the order among reads of the
 * same length (and among unread appends) is free, and ordering those by call
 * time is optimal. So the history is linearizable iff that order never puts
 * an operation after one that returned before it was called.
 *
 * Reads with an unknown outcome are ignored; appends with an unknown outcome
 * count if some read saw their entry and are dropped otherwise.
 */
export function checkAppendLogHistory(operations: readonly LogOperation[]): AppendLogResult {
  validateHistory(operations);
  const byLog = new Map<string, LogOperation[]>();
  for (const operation of operations) {
    const list = byLog.get(operation.call.log);
    if (list === undefined) {
      byLog.set(operation.call.log, [operation]);
    } else {
      list.push(operation);
    }
  }
  const logs = [...byLog.keys()].sort();
  for (const log of logs) {
    const violation = checkOneLog(byLog.get(log) ?? []);
    if (violation !== undefined) {
      return { verdict: "not-linearizable", log, ...violation };
    }
  }
  return { verdict: "linearizable" };
}

interface Read {
  readonly operation: LogOperation;
  readonly entries: readonly string[];
}

function checkOneLog(operations: readonly LogOperation[]): Violation | undefined {
  const appends = new Map<string, LogOperation>();
  const reads: Read[] = [];
  for (const operation of operations) {
    const { call, outcome } = operation;
    if (call.kind === "append") {
      ensure(!appends.has(call.entry), `entry ${JSON.stringify(call.entry)} is appended twice`);
      appends.set(call.entry, operation);
    } else if (outcome.status === "ok" && outcome.result.kind === "read") {
      reads.push({ operation, entries: outcome.result.entries });
    }
  }
  const longest = reads.reduce<Read | undefined>(
    (best, read) => (best === undefined || read.entries.length > best.entries.length ? read : best),
    undefined,
  );
  const order = longest?.entries ?? [];
  const shapeViolation = checkShape(reads, order, longest, appends);
  if (shapeViolation !== undefined) {
    return shapeViolation;
  }
  return checkRealTime(canonicalOrder(reads, order, appends));
}

/** Every read a prefix of the longest, no duplicate, no entry without its append. */
function checkShape(
  reads: readonly Read[],
  order: readonly string[],
  longest: Read | undefined,
  appends: ReadonlyMap<string, LogOperation>,
): Violation | undefined {
  const seen = new Set<string>();
  for (const entry of order) {
    if (seen.has(entry)) {
      return {
        problem: `entry ${JSON.stringify(entry)} appears twice in one read`,
        operations: ids(longest),
      };
    }
    seen.add(entry);
    if (!appends.has(entry)) {
      return {
        problem: `entry ${JSON.stringify(entry)} was read but never appended`,
        operations: ids(longest),
      };
    }
  }
  for (const read of reads) {
    const divergence = read.entries.findIndex((entry, index) => entry !== order[index]);
    if (divergence !== -1) {
      return {
        problem: `reads #${read.operation.id} and #${longest?.operation.id} disagree at position ${divergence}`,
        operations: [read.operation.id, ...ids(longest)],
      };
    }
  }
  return undefined;
}

interface Placed {
  readonly operation: LogOperation;
  /** Position in the forced order: 2p-1 for the append at p, 2p for reads of length p. */
  readonly slot: number;
}

function canonicalOrder(
  reads: readonly Read[],
  order: readonly string[],
  appends: ReadonlyMap<string, LogOperation>,
): Placed[] {
  const placed: Placed[] = reads.map((read) => ({
    operation: read.operation,
    slot: 2 * read.entries.length,
  }));
  const position = new Map(order.map((entry, index) => [entry, index + 1]));
  for (const [entry, operation] of appends) {
    const at = position.get(entry);
    if (at !== undefined) {
      placed.push({ operation, slot: 2 * at - 1 });
    } else if (operation.outcome.status === "ok") {
      placed.push({ operation, slot: 2 * order.length + 1 });
    }
  }
  return placed.sort(
    (a, b) =>
      a.slot - b.slot || a.operation.callMs - b.operation.callMs || a.operation.id - b.operation.id,
  );
}

/** Scans from the end: no operation may come after one that returned before it was called. */
function checkRealTime(placed: readonly Placed[]): Violation | undefined {
  let earliestLater: LogOperation | undefined;
  for (let index = placed.length - 1; index >= 0; index -= 1) {
    const { operation } = placed[index] as Placed;
    if (earliestLater !== undefined && returnMs(earliestLater) < operation.callMs) {
      return {
        problem:
          `#${operation.id} must take effect before #${earliestLater.id}, ` +
          `but #${earliestLater.id} returned at ${returnMs(earliestLater)} ms, before #${operation.id} was called at ${operation.callMs} ms`,
        operations: [operation.id, earliestLater.id],
      };
    }
    if (earliestLater === undefined || returnMs(operation) < returnMs(earliestLater)) {
      earliestLater = operation;
    }
  }
  return undefined;
}

function returnMs(operation: LogOperation): number {
  return operation.outcome.status === "ok" ? operation.outcome.returnMs : Number.POSITIVE_INFINITY;
}

function ids(read: Read | undefined): number[] {
  return read === undefined ? [] : [read.operation.id];
}
