// The answer of `GET /rooms/{roomId}/certificate` (docs/protocol.md §10.3)
// in JSON, written by the homeserver and read by the SDK and the tools, so
// both sides share one copy of the field names and encodings.

import { decodeBase64url, encodeBase64url } from "../codec/base64url.ts";
import type { CertifiedRecords } from "../control-certificates/certified-records.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { parseServerName, type ServerName } from "../identifiers/server-name.ts";

export interface CertificateAnswerJson {
  readonly roomId: string;
  readonly certificate: {
    readonly index: number;
    readonly chainHash: string;
    readonly signatures: ReadonlyArray<{ readonly server: string; readonly signature: string }>;
  };
  readonly sponsors: readonly string[];
  readonly signers: ReadonlyArray<{ readonly server: string; readonly publicKeys: string[] }>;
  readonly from: number;
  readonly previousChainHash: string;
  readonly records: readonly string[];
}

/** What the answer carries: the certified records and each signer's public keys. */
export interface CertificateAnswer {
  readonly roomId: string;
  readonly served: CertifiedRecords;
  readonly publicKeys: ReadonlyMap<ServerName, readonly Uint8Array[]>;
}

export function certificateAnswerJson(answer: CertificateAnswer): CertificateAnswerJson {
  const { certificate } = answer.served;
  return {
    roomId: answer.roomId,
    certificate: {
      index: certificate.index,
      chainHash: encodeBase64url(certificate.chainHash),
      signatures: certificate.signatures.map(([server, signature]) => ({
        server,
        signature: encodeBase64url(signature),
      })),
    },
    sponsors: answer.served.sponsors,
    signers: [...answer.publicKeys].map(([server, keys]) => ({
      server,
      publicKeys: keys.map(encodeBase64url),
    })),
    from: answer.served.from,
    previousChainHash: encodeBase64url(answer.served.previousChainHash),
    records: answer.served.records.map(encodeBase64url),
  };
}

/** Reads an answer; anything malformed is `certificate_invalid` (a client refuses it, never crashes). */
export function parseCertificateAnswer(json: CertificateAnswerJson): CertificateAnswer {
  try {
    const { certificate } = json;
    return {
      roomId: json.roomId,
      served: {
        certificate: {
          index: certificate.index,
          chainHash: decodeBase64url(certificate.chainHash),
          signatures: certificate.signatures.map(
            (one) => [parseServerName(one.server), decodeBase64url(one.signature)] as const,
          ),
        },
        sponsors: json.sponsors.map(parseServerName),
        from: json.from,
        previousChainHash: decodeBase64url(json.previousChainHash),
        records: json.records.map(decodeBase64url),
      },
      publicKeys: new Map(
        json.signers.map((signer) => [
          parseServerName(signer.server),
          signer.publicKeys.map(decodeBase64url),
        ]),
      ),
    };
  } catch (error) {
    throw new ParleyError(
      "certificate_invalid",
      `a malformed certificate answer: ${String(error)}`,
    );
  }
}
