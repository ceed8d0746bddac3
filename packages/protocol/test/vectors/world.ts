/**
 * The fixed world the record and key-document vectors live in: two servers,
 * a key rotation at example.org, and a few devices, all from labelled seeds.
 */
import { encodeHex } from "../../src/codec/bytes.ts";
import type { KeyPair, SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { parseServerName } from "../../src/identifiers/server-name.ts";
import {
  createServerKeyDocument,
  type ServerKeyDocumentInput,
} from "../../src/server-keys/document.ts";
import { dayMs, endpointOf, keyPairOf, seedOf, startMs } from "../fixtures.ts";

export const exampleOrg = parseServerName("example.org");
export const evilExample = parseServerName("evil.example");
/** example.org retires key 1 and starts key 2 at this time. */
export const rotationMs = startMs + 10 * dayMs;
export const firstKeyFromMs = startMs - 30 * dayMs;

export interface NamedKey {
  readonly label: string;
  readonly keyPair: KeyPair;
}

export function makeWorld(provider: SignatureProvider) {
  const key = (label: string): NamedKey => ({ label, keyPair: keyPairOf(provider, label) });
  const keys = {
    exampleKey1: key("example.org key 1"),
    exampleKey2: key("example.org key 2"),
    evilKey: key("evil.example key 1"),
    aliceLaptop: key("alice laptop"),
    alicePhone: key("alice phone"),
    mallory: key("mallory phone"),
    bobPhone: key("bob phone"),
  };
  const exampleFirst: ServerKeyDocumentInput = {
    server: exampleOrg,
    serial: 1,
    issuedAtMs: firstKeyFromMs,
    federationEndpoint: endpointOf(exampleOrg),
    keys: [
      {
        publicKey: keys.exampleKey1.keyPair.publicKey,
        validFromMs: firstKeyFromMs,
        validUntilMs: null,
      },
    ],
  };
  const exampleRotated: ServerKeyDocumentInput = {
    ...exampleFirst,
    serial: 2,
    issuedAtMs: rotationMs,
    keys: [
      {
        publicKey: keys.exampleKey1.keyPair.publicKey,
        validFromMs: firstKeyFromMs,
        validUntilMs: rotationMs,
      },
      {
        publicKey: keys.exampleKey2.keyPair.publicKey,
        validFromMs: rotationMs,
        validUntilMs: null,
      },
    ],
  };
  const evilFirst: ServerKeyDocumentInput = {
    server: evilExample,
    serial: 1,
    issuedAtMs: firstKeyFromMs,
    federationEndpoint: endpointOf(evilExample),
    keys: [
      {
        publicKey: keys.evilKey.keyPair.publicKey,
        validFromMs: firstKeyFromMs,
        validUntilMs: null,
      },
    ],
  };
  const documents = {
    "example.org serial 1": createServerKeyDocument(provider, exampleFirst, [
      keys.exampleKey1.keyPair,
    ]),
    "example.org serial 2": createServerKeyDocument(provider, exampleRotated, [
      keys.exampleKey1.keyPair,
      keys.exampleKey2.keyPair,
    ]),
    "example.org serial 2, new key only": createServerKeyDocument(provider, exampleRotated, [
      keys.exampleKey2.keyPair,
    ]),
    "evil.example serial 1": createServerKeyDocument(provider, evilFirst, [keys.evilKey.keyPair]),
  };
  return { keys, documents, inputs: { exampleFirst, exampleRotated } };
}

export type World = ReturnType<typeof makeWorld>;
export type DocumentName = keyof World["documents"];

/** The keys of the world as they appear in the vectors: label, seed and public key. */
export function describeKeys(world: World) {
  return Object.values(world.keys).map(({ label, keyPair }) => ({
    label,
    seed: encodeHex(seedOf(label)),
    publicKey: encodeHex(keyPair.publicKey),
  }));
}

export function describeDocuments(world: World) {
  return Object.entries(world.documents).map(([name, bytes]) => ({ name, hex: encodeHex(bytes) }));
}
