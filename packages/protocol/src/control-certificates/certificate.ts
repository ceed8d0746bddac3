import { equalBytes } from "../codec/bytes.ts";
import { encodeCanonical } from "../codec/encode.ts";
import { ParleyError } from "../errors/parley-error.ts";
import type { RoomId } from "../identifiers/room-id.ts";
import type { ServerName } from "../identifiers/server-name.ts";

/**
 * A certificate of a room's control log (docs/protocol.md §12.6.1): sponsor
 * signatures over (room, index, chain hash at index). Since each chain hash
 * names the whole prefix before it, a majority of the sponsor set at `index`
 * vouches for every record up to `index`, not only the last one.
 */
export interface ControlCertificate {
  readonly index: number;
  readonly chainHash: Uint8Array;
  /** `[server, signature]`, sorted by server, distinct. */
  readonly signatures: readonly (readonly [ServerName, Uint8Array])[];
}

/** The canonical CBOR each sponsor signs, under the context `parley/v1/control-certificate`. */
export function certificateStatement(
  room: RoomId,
  index: number,
  chainHash: Uint8Array,
): Uint8Array {
  return encodeCanonical({ room, index, chainHash });
}

/**
 * The server's own key and its peers' keys, as the pure core needs them:
 * synchronous. `verify` answers "unknown-key" when the signer's key document
 * is not at hand yet (the caller fetches it; the record is asked for again).
 */
export interface CertificateKeys {
  sign(room: RoomId, index: number, chainHash: Uint8Array): Uint8Array;
  verify(
    server: ServerName,
    room: RoomId,
    index: number,
    chainHash: Uint8Array,
    signature: Uint8Array,
  ): "valid" | "invalid" | "unknown-key";
}

/** The smallest number of sponsors that is a majority of `sponsorCount`. */
export function majorityOf(sponsorCount: number): number {
  return Math.floor(sponsorCount / 2) + 1;
}

export type CertificateCheck =
  | { readonly kind: "certified" }
  /** Some signer's key is not known yet: neither believed nor refused. */
  | { readonly kind: "keys-missing"; readonly servers: readonly ServerName[] }
  | { readonly kind: "refused"; readonly error: ParleyError };

/**
 * Checks that `certificate` certifies `chainHash` at `index` for `room`: it
 * names that index and chain hash, and a majority of `sponsors` (the sponsor
 * set in the state at `index`) signed them. Signatures by other servers are
 * ignored, never counted.
 */
export function checkCertificate(
  room: RoomId,
  certificate: ControlCertificate | null,
  at: { readonly index: number; readonly chainHash: Uint8Array },
  sponsors: readonly ServerName[],
  keys: Pick<CertificateKeys, "verify">,
): CertificateCheck {
  const refuse = (message: string): CertificateCheck => ({
    kind: "refused",
    error: new ParleyError("certificate_invalid", message),
  });
  if (certificate === null)
    return refuse(`control state at ${at.index} comes without a certificate`);
  if (certificate.index !== at.index) {
    return refuse(`the certificate is for index ${certificate.index}, the state is at ${at.index}`);
  }
  if (!equalBytes(certificate.chainHash, at.chainHash)) {
    return refuse(`the certificate's chain hash at ${at.index} is not the log's`);
  }
  const needed = majorityOf(sponsors.length);
  const sponsorSet = new Set(sponsors);
  let valid = 0;
  const missing: ServerName[] = [];
  for (const [server, signature] of certificate.signatures) {
    if (!sponsorSet.has(server)) continue;
    const verdict = keys.verify(server, room, certificate.index, certificate.chainHash, signature);
    if (verdict === "valid") valid += 1;
    else if (verdict === "unknown-key") missing.push(server);
  }
  if (valid >= needed) return { kind: "certified" };
  if (valid + missing.length >= needed) return { kind: "keys-missing", servers: missing };
  return refuse(
    `${valid} valid sponsor signatures at ${at.index}; a majority of ${sponsors.length} is ${needed}`,
  );
}
