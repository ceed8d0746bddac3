import { equalBytes } from "../codec/bytes.ts";
import { signatureContexts, verifyInContext } from "../crypto/contexts.ts";
import type { SignatureProvider } from "../crypto/signature-provider.ts";
import { ParleyError } from "../errors/parley-error.ts";
import type { RoomId } from "../identifiers/room-id.ts";
import type { ServerName } from "../identifiers/server-name.ts";
import {
  type CertificateCheck,
  type CertificateKeys,
  type ControlCertificate,
  certificateStatement,
  checkCertificate,
} from "./certificate.ts";
import { genesisChainHash, nextChainHash } from "./chain.ts";

/** Whether `signature` is a signature of (room, index, chain hash) by any of `publicKeys` (§12.6.1). */
export function verifyCertificateSignature(
  provider: SignatureProvider,
  publicKeys: readonly Uint8Array[],
  statement: { readonly room: RoomId; readonly index: number; readonly chainHash: Uint8Array },
  signature: Uint8Array,
): boolean {
  const bytes = certificateStatement(statement.room, statement.index, statement.chainHash);
  const context = signatureContexts.controlCertificate;
  return publicKeys.some((key) => verifyInContext(provider, key, context, bytes, signature));
}

/**
 * Verify-only certificate keys from a list of each signer's public keys (a
 * client's view: its homeserver hands out the keys of the signers' key
 * documents). A signer not listed is "unknown-key".
 */
export function listedCertificateKeys(
  provider: SignatureProvider,
  listed: ReadonlyMap<ServerName, readonly Uint8Array[]>,
): Pick<CertificateKeys, "verify"> {
  return {
    verify(server, room, index, chainHash, signature) {
      const keys = listed.get(server);
      if (keys === undefined) return "unknown-key";
      return verifyCertificateSignature(provider, keys, { room, index, chainHash }, signature)
        ? "valid"
        : "invalid";
    },
  };
}

/**
 * A certificate with the control records it covers, as a homeserver serves
 * it to clients (`GET /rooms/{roomId}/certificate`, docs/protocol.md §10.3).
 */
export interface CertifiedRecords {
  readonly certificate: ControlCertificate;
  /** The sponsor set in the room's state at the certificate's index. */
  readonly sponsors: readonly ServerName[];
  /** The control index of the first record. */
  readonly from: number;
  /** `chain(from - 1)`. */
  readonly previousChainHash: Uint8Array;
  /** The encoded control records from `from` through the certificate's index. */
  readonly records: readonly Uint8Array[];
}

/**
 * Checks that `served` is certified: the records, chained from
 * `previousChainHash`, end on the certificate's chain hash at its index, and
 * a majority of the sponsors signed that (checkCertificate). The previous
 * chain hash needs no trust of its own: a different one could only reach
 * the certified chain hash by a SHA-256 collision, so records that chain to
 * it are the log's records at those indexes.
 */
export function checkCertifiedRecords(
  room: RoomId,
  served: CertifiedRecords,
  keys: Pick<CertificateKeys, "verify">,
): CertificateCheck {
  const refuse = (message: string): CertificateCheck => ({
    kind: "refused",
    error: new ParleyError("certificate_invalid", message),
  });
  const { certificate, from, records } = served;
  if (from < 1 || from + records.length - 1 !== certificate.index) {
    return refuse(`records from ${from} (${records.length}) do not end at ${certificate.index}`);
  }
  if (from === 1 && !equalBytes(served.previousChainHash, genesisChainHash(room))) {
    return refuse("the chain before the first record is not the room's");
  }
  let chainHash = served.previousChainHash;
  for (const record of records) chainHash = nextChainHash(chainHash, record);
  return checkCertificate(
    room,
    certificate,
    { index: certificate.index, chainHash },
    served.sponsors,
    keys,
  );
}
