import {
  type CborMap,
  decodeCanonical,
  encodeCanonical,
  isServerName,
  ParleyError,
  type ServerName,
} from "@parley/protocol";
import { type ControlEntry, parseControlEntry } from "@parley/room";
import { z } from "zod";
import { controlRecordBytesMax } from "../limits.ts";

/**
 * One entry of a room's control log as the Raft log carries it: the control
 * entry the room state machine applies, plus which server proposed it and
 * that server's id for the proposal, so the proposer (a sponsor, or a leaf
 * through a sponsor) recognises its own entry when it commits.
 *
 * The control index of a record is its position among records: Raft's own
 * entries (a new leader's empty entry, membership changes) are in the Raft
 * log but not in the control log, so the Raft index and the control index
 * differ, and only the control index is ever shown outside a sponsor.
 */
export interface ControlRecord {
  readonly entry: ControlEntry;
  readonly proposer: ServerName;
  readonly proposalId: number;
}

export function encodeControlRecord(record: ControlRecord): Uint8Array {
  return encodeCanonical({
    entry: record.entry as unknown as CborMap,
    proposer: record.proposer,
    proposalId: record.proposalId,
  });
}

const recordSchema = z.strictObject({
  entry: z.unknown(),
  proposer: z.custom<ServerName>((value) => typeof value === "string" && isServerName(value)),
  proposalId: z.int().nonnegative(),
});

/** Decodes a record; throws `payload_too_large`, `bad_encoding` or `bad_structure`. */
export function decodeControlRecord(bytes: Uint8Array): ControlRecord {
  const value = decodeCanonical(bytes, {
    totalBytesMax: controlRecordBytesMax,
    depthMax: 8,
    containerItemsMax: 1024,
    stringBytesMax: controlRecordBytesMax,
  });
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) throw new ParleyError("bad_structure", "invalid control record");
  return {
    entry: parseControlEntry(parsed.data.entry),
    proposer: parsed.data.proposer,
    proposalId: parsed.data.proposalId,
  };
}

// The chain hash lives in @parley/protocol so clients recompute it too (§12.6).
export { genesisChainHash, nextChainHash } from "@parley/protocol";
