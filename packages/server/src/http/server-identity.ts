// Who this homeserver is, for the client API: its name, the key pair it
// attests device records with, and its own verified key document (device
// records are verified against it exactly as a peer would verify them).

import {
  createServerKeyDocument,
  isLoopbackServerName,
  type KeyPair,
  keyPairFromSeed,
  parseServerName,
  type ServerName,
  type SignatureProvider,
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "@parley/protocol";
import type { ServerSigningKey } from "../storage/records.ts";

export interface ServerIdentity {
  readonly name: ServerName;
  readonly keyPair: KeyPair;
  readonly keyDocument: VerifiedServerKeyDocument;
}

/** The path peers will use for federation; published in the key document. */
export const federationPath = "/_parley/federation/v1";

export function createServerIdentity(
  provider: SignatureProvider,
  input: {
    readonly name: string;
    readonly currentKey: ServerSigningKey;
    readonly allKeys: readonly ServerSigningKey[];
  },
): ServerIdentity {
  const name = parseServerName(input.name);
  const keyPair = keyPairFromSeed(provider, input.currentKey.secretSeed);
  const scheme = isLoopbackServerName(name) ? "http" : "https";
  const federationEndpoint = new URL(`${scheme}://${name}${federationPath}`).href;
  const keys = input.allKeys.map((key) => ({
    publicKey: key.publicKey,
    validFromMs: key.validFromMs,
    validUntilMs: key.validUntilMs,
  }));
  const issuedAtMs = input.currentKey.validFromMs;
  const bytes = createServerKeyDocument(
    provider,
    { server: name, serial: 1, issuedAtMs, federationEndpoint, keys },
    [keyPair],
  );
  const keyDocument = verifyServerKeyDocument(bytes, {
    provider,
    nowMs: issuedAtMs,
    expectedServer: name,
  });
  return { name, keyPair, keyDocument };
}
