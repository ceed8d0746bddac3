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
  // The document is issued when the current key took over. Every key valid
  // then signs it — after a rotation the outgoing key too, so a peer that
  // trusted the old document accepts this one (§6.4) — and its serial counts
  // the keys ever stored (never deleted, one more per rotation), so each
  // rotation publishes a higher serial and a restart the same document.
  const issuedAtMs = input.currentKey.validFromMs;
  const signers = input.allKeys
    .filter(
      (key) =>
        key.validFromMs <= issuedAtMs &&
        (key.validUntilMs === null || issuedAtMs < key.validUntilMs),
    )
    .map((key) => keyPairFromSeed(provider, key.secretSeed));
  const bytes = createServerKeyDocument(
    provider,
    { server: name, serial: input.allKeys.length, issuedAtMs, federationEndpoint, keys },
    signers,
  );
  const keyDocument = verifyServerKeyDocument(bytes, {
    provider,
    nowMs: issuedAtMs,
    expectedServer: name,
  });
  return { name, keyPair, keyDocument };
}
