import { compareBytes, equalBytes } from "../codec/bytes.ts";
import { encodeCanonical } from "../codec/encode.ts";
import { signatureContexts, signInContext, verifyInContext } from "../crypto/contexts.ts";
import type { KeyPair, SignatureProvider } from "../crypto/signature-provider.ts";
import { assertArgument, checkCallerInput, ParleyError } from "../errors/parley-error.ts";
import { type ContentId, contentIdOf } from "../identifiers/content-id.ts";
import type { ServerName } from "../identifiers/server-name.ts";
import { clockSkewToleranceMs, serverKeyDocumentDecodeLimits } from "../limits.ts";
import { decodeStructure } from "../validation/structure.ts";
import { findServerKey, isServerKeyValidAt } from "./lookup.ts";
import {
  checkServerKeyDocumentBody,
  checkSignatureOrder,
  type ServerKeyDocumentBody,
  type ServerKeyEntry,
  type ServerKeySignature,
  serverKeyDocumentSchema,
} from "./schema.ts";

declare const verifiedBrand: unique symbol;

/**
 * A server key document that passed `verifyServerKeyDocument`. Only that
 * function makes one, so holding this type means the checks were done.
 */
export type VerifiedServerKeyDocument = VerifiedServerKeyDocumentFields & {
  readonly [verifiedBrand]: true;
};

export interface VerifiedServerKeyDocumentFields {
  readonly server: ServerName;
  readonly serial: number;
  readonly issuedAtMs: number;
  readonly federationEndpoint: string;
  readonly keys: readonly ServerKeyEntry[];
  /** The exact bytes verified, to store or serve again unchanged. */
  readonly bytes: Uint8Array;
  readonly documentId: ContentId;
}

export interface ServerKeyDocumentInput {
  readonly server: ServerName;
  readonly serial: number;
  readonly issuedAtMs: number;
  readonly federationEndpoint: string;
  /** Current and past keys, in any order (they are sorted). */
  readonly keys: readonly ServerKeyEntry[];
}

export interface ServerKeyDocumentVerification {
  readonly provider: SignatureProvider;
  /** The verifier's current time. */
  readonly nowMs: number;
  /** The server the document was fetched for; the document must name it. */
  readonly expectedServer: ServerName;
  /**
   * The document the verifier already trusts for this server, if any. A new
   * document must then have a higher serial and a signature by a key of the
   * trusted one (continuity). Without it, the caller vouches for the source
   * (first contact over https); see docs/protocol.md §6.4.
   */
  readonly trusted?: VerifiedServerKeyDocument;
}

const documentContentType = "server-key-document";

/**
 * Builds and signs a key document. Every signer must be one of the listed
 * keys; on a rotation, sign with the outgoing key and the new one, so that
 * verifiers who trust the old document accept the new one. The result is
 * verified before it is returned.
 */
export function createServerKeyDocument(
  provider: SignatureProvider,
  input: ServerKeyDocumentInput,
  signers: readonly KeyPair[],
): Uint8Array {
  const body: ServerKeyDocumentBody = {
    version: 1,
    server: input.server,
    serial: input.serial,
    issuedAtMs: input.issuedAtMs,
    federationEndpoint: input.federationEndpoint,
    keys: [...input.keys].sort((left, right) => compareBytes(left.publicKey, right.publicKey)),
  };
  checkCallerInput("server key document", () => checkServerKeyDocumentBody(body));
  assertArgument(signers.length > 0, "a key document needs at least one signer");
  const bodyBytes = encodeCanonical(body);
  const signatures: ServerKeySignature[] = [...signers]
    .sort((left, right) => compareBytes(left.publicKey, right.publicKey))
    .map((signer) => {
      assertArgument(
        findServerKey(body, signer.publicKey) !== undefined,
        "every signer must be a listed key",
      );
      const signature = signInContext(
        provider,
        signer,
        signatureContexts.serverKeyDocument,
        bodyBytes,
      );
      return { publicKey: signer.publicKey, signature };
    });
  const bytes = encodeCanonical({ body, signatures });
  checkCallerInput("server key document", () =>
    verifyServerKeyDocument(bytes, {
      provider,
      nowMs: input.issuedAtMs,
      expectedServer: input.server,
    }),
  );
  return bytes;
}

/**
 * Verifies a key document, in this order (docs/protocol.md §6.3):
 * decode and shape; body rules; server name; issue time not in the future;
 * serial against the trusted document; every signature by a listed key and
 * valid; one signer valid at issue time; continuity with the trusted document.
 */
export function verifyServerKeyDocument(
  bytes: Uint8Array,
  verification: ServerKeyDocumentVerification,
): VerifiedServerKeyDocument {
  const { trusted, expectedServer, nowMs } = verification;
  assertArgument(
    trusted === undefined || trusted.server === expectedServer,
    "trusted document is for another server",
  );
  const wire = decodeStructure(
    bytes,
    serverKeyDocumentDecodeLimits,
    serverKeyDocumentSchema,
    "server key document",
  );
  const { body, signatures } = wire;
  const server = checkServerKeyDocumentBody(body);
  checkSignatureOrder(signatures);
  if (server !== expectedServer) {
    throw new ParleyError(
      "server_mismatch",
      `document is for ${server}, expected ${expectedServer}`,
    );
  }
  if (body.issuedAtMs > nowMs + clockSkewToleranceMs) {
    throw new ParleyError(
      "timestamp_in_future",
      `document issued at ${body.issuedAtMs}, now is ${nowMs}`,
    );
  }
  if (trusted !== undefined) {
    const sameAsTrusted = checkSerial(body.serial, bytes, trusted);
    if (sameAsTrusted) return trusted;
  }
  checkSignatures(verification.provider, body, signatures, encodeCanonical(body));
  if (trusted !== undefined) checkContinuity(body, signatures, trusted);
  const verified: VerifiedServerKeyDocumentFields = {
    server,
    serial: body.serial,
    issuedAtMs: body.issuedAtMs,
    federationEndpoint: body.federationEndpoint,
    keys: body.keys,
    bytes: Uint8Array.from(bytes),
    documentId: contentIdOf(documentContentType, bytes),
  };
  return verified as VerifiedServerKeyDocument;
}

/** True when the document is the trusted one again (idempotent re-delivery). */
function checkSerial(
  serial: number,
  bytes: Uint8Array,
  trusted: VerifiedServerKeyDocument,
): boolean {
  if (serial === trusted.serial && equalBytes(bytes, trusted.bytes)) return true;
  if (serial <= trusted.serial) {
    throw new ParleyError(
      "record_replayed",
      `document serial ${serial} is not above the trusted serial ${trusted.serial}`,
    );
  }
  return false;
}

function checkSignatures(
  provider: SignatureProvider,
  body: ServerKeyDocumentBody,
  signatures: readonly ServerKeySignature[],
  bodyBytes: Uint8Array,
): void {
  let signedByCurrentKey = false;
  for (const { publicKey, signature } of signatures) {
    const key = findServerKey(body, publicKey);
    if (key === undefined) {
      throw new ParleyError(
        "server_key_unknown",
        "a document signer is not listed in the document",
      );
    }
    if (
      !verifyInContext(
        provider,
        publicKey,
        signatureContexts.serverKeyDocument,
        bodyBytes,
        signature,
      )
    ) {
      throw new ParleyError("signature_invalid", "a server key document signature does not verify");
    }
    if (isServerKeyValidAt(key, body.issuedAtMs)) signedByCurrentKey = true;
  }
  if (!signedByCurrentKey) {
    throw new ParleyError(
      "server_key_not_valid",
      "no signer was valid when the document was issued",
    );
  }
}

/**
 * Continuity: some signer must be a key the trusted document lists and
 * considers valid at the new document's issue time. A key the server has
 * withdrawn from the new document cannot sign it (signers must be listed).
 */
function checkContinuity(
  body: ServerKeyDocumentBody,
  signatures: readonly ServerKeySignature[],
  trusted: VerifiedServerKeyDocument,
): void {
  const continued = signatures.some(({ publicKey }) => {
    const trustedKey = findServerKey(trusted, publicKey);
    return trustedKey !== undefined && isServerKeyValidAt(trustedKey, body.issuedAtMs);
  });
  if (!continued) {
    throw new ParleyError(
      "key_continuity_broken",
      `document serial ${body.serial} is not signed by a key trusted from serial ${trusted.serial}`,
    );
  }
}
