import { type CertifiedRecords, genesisChainHash } from "@parley/protocol";
import { controlRecordsRetainedPerRoomMax } from "../limits.ts";
import { sponsorsAt } from "./certification.ts";
import type { RoomSession } from "./room-session.ts";

/** Why a room's records from some index cannot be shown certified now. */
export type CertifiedRecordsGap =
  /** No certificate covers the index yet (a sponsor certifies within a few rounds): ask again. */
  | "not-certified"
  /** The records (or the sponsor set) at those indexes are no longer held here. */
  | "not-held";

/**
 * The newest certificate of a room with the records it covers from `from`
 * (docs/protocol.md §10.3, `GET /rooms/{roomId}/certificate`): what a client
 * needs to check, with checkCertifiedRecords, that the control entry at
 * `from` is certified. At most controlRecordsRetainedPerRoomMax records.
 */
export function certifiedRecordsFrom(
  session: RoomSession,
  from: number,
): CertifiedRecords | CertifiedRecordsGap {
  const certificate = session.certificate;
  if (certificate === null || from > certificate.index) return "not-certified";
  if (from < 1 || certificate.index - from + 1 > controlRecordsRetainedPerRoomMax) {
    return "not-held";
  }
  const sponsors = sponsorsAt(session, certificate.index);
  const records = session.replica.recordsAfter(from - 1, certificate.index - from + 1);
  if (sponsors === undefined || records === null) return "not-held";
  if (records.length !== certificate.index - from + 1) return "not-held";
  const previousChainHash =
    from === 1 ? genesisChainHash(session.room) : session.replica.chainHashAt(from - 1);
  if (previousChainHash === undefined) return "not-held";
  return {
    certificate,
    sponsors,
    from,
    previousChainHash,
    records: records.map((at) => at.record),
  };
}
