/**
 * Builds every test-vector file from fixed seeds and the fixed clock of the
 * fixtures. scripts/generate-test-vectors.ts writes the result to
 * test-vectors/; test-vectors.test.ts rebuilds it and compares, so the
 * committed JSON can never drift from the implementation unnoticed.
 */
import { nobleSignatureProvider } from "../../src/crypto/noble-provider.ts";
import { errorCodeList, errorCodes } from "../../src/errors/codes.ts";
import { canonicalCborVectors } from "./canonical-cbor-vectors.ts";
import { deviceRecordVectors } from "./device-record-vectors.ts";
import { identifierVectors } from "./identifier-vectors.ts";
import { registryVectors, revocationVectors } from "./registry-vectors.ts";
import { serverKeyVectors } from "./server-key-vectors.ts";
import { signatureVectors } from "./signature-vectors.ts";

function errorCodeVectors() {
  return {
    description:
      "The error-code table (docs/protocol.md §7), for implementations to load instead of copying.",
    codes: errorCodeList.map((code) => ({ code, ...errorCodes[code] })),
  };
}

/** File name (without .json) to content. Signing is deterministic, so this is too. */
export function buildTestVectors(): Record<string, unknown> {
  const provider = nobleSignatureProvider;
  return {
    "canonical-cbor": canonicalCborVectors(),
    signatures: signatureVectors(provider),
    identifiers: identifierVectors(provider),
    "server-key-documents": serverKeyVectors(provider),
    "device-records": deviceRecordVectors(provider),
    "device-revocations": revocationVectors(provider),
    "device-registry": registryVectors(provider),
    "error-codes": errorCodeVectors(),
  };
}

export function serializeVectors(content: unknown): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}
