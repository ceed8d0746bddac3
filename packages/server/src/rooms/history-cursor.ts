// The cursor of the ordered history route (docs/protocol.md §10.4): the
// history key (§12.4.3) of the last event a page returned, as an opaque
// base64url string. A key, not a position, so a page boundary stays where it
// was when a backfilled message is stored anywhere in the room.

import { ParleyError } from "@parley/protocol";
import { historyCursorLengthMax } from "../limits.ts";
import type { HistoryKey } from "../storage/records.ts";

export function encodeHistoryCursor(key: HistoryKey): string {
  const tuple = [
    key.controlIndex,
    key.rank,
    key.acceptedAtMs,
    key.origin,
    key.originSequence,
    key.roomSequence,
  ];
  return Buffer.from(JSON.stringify(tuple), "utf8").toString("base64url");
}

export function decodeHistoryCursor(cursor: string): HistoryKey {
  const refuse = (): never => {
    throw new ParleyError("bad_structure", "from: not a history cursor this server gave");
  };
  if (cursor.length > historyCursorLengthMax || !/^[A-Za-z0-9_-]+$/.test(cursor)) refuse();
  let tuple: unknown;
  try {
    tuple = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return refuse();
  }
  if (!Array.isArray(tuple) || tuple.length !== 6) return refuse();
  const [controlIndex, rank, acceptedAtMs, origin, originSequence, roomSequence]: unknown[] = tuple;
  if (
    !isCount(controlIndex) ||
    !isCount(rank) ||
    !isCount(acceptedAtMs) ||
    typeof origin !== "string" ||
    origin.length > historyCursorLengthMax ||
    !isCount(originSequence) ||
    !isCount(roomSequence)
  ) {
    return refuse();
  }
  return { controlIndex, rank, acceptedAtMs, origin, originSequence, roomSequence };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
