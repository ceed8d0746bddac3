import { z } from "zod";
import { compareBytes } from "../codec/bytes.ts";
import { assertAcceptablePublicKey } from "../crypto/public-key.ts";
import { parseServerName, type ServerName } from "../identifiers/server-name.ts";
import { serverKeysMax } from "../limits.ts";
import {
  publicKeySchema,
  requireStructure,
  sequenceSchema,
  signatureSchema,
  timestampMsSchema,
} from "../validation/structure.ts";
import { checkFederationEndpoint } from "./federation-endpoint.ts";

/**
 * One signing key of a server. The key is valid from `validFromMs`
 * (inclusive) until `validUntilMs` (exclusive); `null` means "until a later
 * document says otherwise", which is how the current key is listed.
 */
export const serverKeyEntrySchema = z.strictObject({
  publicKey: publicKeySchema,
  validFromMs: timestampMsSchema,
  validUntilMs: z.union([timestampMsSchema, z.null()]),
});

export const serverKeyDocumentBodySchema = z.strictObject({
  version: z.literal(1),
  server: z.string(),
  /** Increases with every new document the server publishes. */
  serial: sequenceSchema,
  issuedAtMs: timestampMsSchema,
  federationEndpoint: z.string(),
  keys: z.array(serverKeyEntrySchema).min(1).max(serverKeysMax),
});

export const serverKeySignatureSchema = z.strictObject({
  publicKey: publicKeySchema,
  signature: signatureSchema,
});

export const serverKeyDocumentSchema = z.strictObject({
  body: serverKeyDocumentBodySchema,
  signatures: z.array(serverKeySignatureSchema).min(1).max(serverKeysMax),
});

export type ServerKeyEntry = z.infer<typeof serverKeyEntrySchema>;
export type ServerKeyDocumentBody = z.infer<typeof serverKeyDocumentBodySchema>;
export type ServerKeySignature = z.infer<typeof serverKeySignatureSchema>;
export type ServerKeyDocumentWire = z.infer<typeof serverKeyDocumentSchema>;

/**
 * The rules on a document body beyond its shape. Keys are sorted by public
 * key without duplicates so that one set of keys has one encoding.
 */
export function checkServerKeyDocumentBody(body: ServerKeyDocumentBody): ServerName {
  const server = parseServerName(body.server);
  checkFederationEndpoint(server, body.federationEndpoint);
  for (const [index, key] of body.keys.entries()) {
    assertAcceptablePublicKey(key.publicKey, `server key ${index}`);
    requireStructure(
      key.validUntilMs === null || key.validUntilMs > key.validFromMs,
      `server key ${index}: validUntilMs must be after validFromMs`,
    );
    const previous = body.keys[index - 1];
    requireStructure(
      previous === undefined || compareBytes(previous.publicKey, key.publicKey) < 0,
      "server keys must be sorted by public key, without duplicates",
    );
  }
  return server;
}

/** Signatures, like keys, are sorted by public key without duplicates. */
export function checkSignatureOrder(signatures: readonly ServerKeySignature[]): void {
  for (const [index, signature] of signatures.entries()) {
    const previous = signatures[index - 1];
    requireStructure(
      previous === undefined || compareBytes(previous.publicKey, signature.publicKey) < 0,
      "signatures must be sorted by public key, without duplicates",
    );
  }
}
