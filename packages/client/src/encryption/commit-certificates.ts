// Clients refuse uncertified commits (docs/protocol.md §10.13, §12.6.1):
// before an MLS commit is processed, the client asks its homeserver for a
// certificate covering the commit's control index (`GET
// /rooms/{roomId}/certificate?from=`), checks with checkCertifiedRecords
// (@parley/protocol, the check leaves make) that a majority of the sponsors
// signed a chain hash the served records reach, and that the record at that
// index carries this very commit.

import {
  type CertificateAnswerJson,
  checkCertifiedRecords,
  decodeCanonical,
  equalBytes,
  listedCertificateKeys,
  ParleyError,
  parseCertificateAnswer,
  type RoomId,
  type SignatureProvider,
} from "@parley/protocol";
import { parseControlEntry } from "@parley/room";

export interface CommitCertificatesDependencies {
  readonly certificate: (roomId: RoomId, from: number) => Promise<CertificateAnswerJson>;
  readonly provider: SignatureProvider;
  /** Waits between asks while no certificate covers the index yet. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a commit waits for its certificate in all (default 10 s: sponsors certify within a few rounds). */
  readonly waitMsMax?: number;
}

/**
 * Waits between asks start short, since a lone sponsor certifies in the
 * round it applies and several within a round trip, and double up to a cap.
 */
const askIntervalMsFirst = 25;
const askIntervalMsMax = 400;

function refuse(message: string): ParleyError {
  return new ParleyError("certificate_invalid", message);
}

/** The commit carried by an encoded control record (§12.6: `{entry, proposer, proposalId}`). */
function commitOfRecord(record: Uint8Array): Uint8Array | null {
  try {
    const decoded = decodeCanonical(record);
    if (typeof decoded !== "object" || decoded === null || !("entry" in decoded)) return null;
    return parseControlEntry(decoded["entry"]).mls?.commit ?? null;
  } catch {
    return null;
  }
}

/**
 * Resolves once a valid certificate covers the commit at `controlIndex`;
 * throws `certificate_invalid` if the certificate does not verify, does not
 * carry this commit at that index, or none arrives in time.
 */
export async function checkCommitCertified(
  dependencies: CommitCertificatesDependencies,
  roomId: RoomId,
  controlIndex: number,
  commit: Uint8Array,
): Promise<void> {
  const sleep =
    dependencies.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const waitMsMax = dependencies.waitMsMax ?? 10_000;
  let waitedMs = 0;
  let intervalMs = askIntervalMsFirst;
  let answer: CertificateAnswerJson | undefined;
  // Bounded: every round without an answer adds at least askIntervalMsFirst to waitedMs.
  while (answer === undefined) {
    try {
      answer = await dependencies.certificate(roomId, controlIndex);
    } catch (error) {
      if (!(error instanceof ParleyError) || error.code !== "unavailable") throw error;
      if (waitedMs >= waitMsMax) break;
      const pauseMs = Math.min(intervalMs, waitMsMax - waitedMs);
      await sleep(pauseMs);
      waitedMs += Math.max(pauseMs, askIntervalMsFirst);
      intervalMs = Math.min(intervalMs * 2, askIntervalMsMax);
    }
  }
  if (answer === undefined) {
    throw refuse(`no certificate covers control index ${controlIndex} of room ${roomId}`);
  }
  const { served, publicKeys } = parseCertificateAnswer(answer);
  if (answer.roomId !== roomId || served.from !== controlIndex) {
    throw refuse(`the certificate served is not for index ${controlIndex} of room ${roomId}`);
  }
  const check = checkCertifiedRecords(
    roomId,
    served,
    listedCertificateKeys(dependencies.provider, publicKeys),
  );
  if (check.kind === "refused") throw check.error;
  if (check.kind === "keys-missing") {
    throw refuse(`the keys of ${check.servers.join(", ")} were not served`);
  }
  const first = served.records[0];
  const certified = first === undefined ? null : commitOfRecord(first);
  if (certified === null || !equalBytes(certified, commit)) {
    throw refuse(`the certified entry at ${controlIndex} carries another commit`);
  }
}
