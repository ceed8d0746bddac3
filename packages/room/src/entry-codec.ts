import {
  type CborMap,
  type CborValue,
  decodeCanonical,
  encodeCanonical,
  ParleyError,
} from "@parley/protocol";
import type { z } from "zod";
import type { ControlEntry, RoomAction } from "./actions.ts";
import { schemas } from "./schemas.ts";

/** Validates a decoded value (from CBOR or JSON) as a room action; throws `bad_structure`. */
export function parseRoomAction(value: unknown): RoomAction {
  const result = schemas.action.safeParse(value);
  if (!result.success) throw structureError("room action", result.error);
  return result.data;
}

/** Validates a decoded value as a control entry; throws `bad_structure`. */
export function parseControlEntry(value: unknown): ControlEntry {
  const result = schemas.controlEntry.safeParse(value);
  if (!result.success) throw structureError("control entry", result.error);
  // An absent `mls` stays absent, so a plain entry re-encodes to the same bytes.
  const { mls, ...entry } = result.data;
  return mls === undefined ? entry : { ...entry, mls };
}

/** The canonical bytes of a control entry: what the Raft log stores and sponsors hash. */
export function encodeControlEntry(entry: ControlEntry): Uint8Array {
  return encodeCanonical(entry as unknown as CborMap);
}

export function decodeControlEntry(bytes: Uint8Array): ControlEntry {
  const value: CborValue = decodeCanonical(bytes);
  return parseControlEntry(value);
}

export function structureError(what: string, error: z.ZodError): ParleyError {
  const issue = error.issues[0];
  const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "top level"}`;
  return new ParleyError("bad_structure", `invalid ${what}${where}: ${issue?.message ?? "?"}`, {
    cause: error,
  });
}
