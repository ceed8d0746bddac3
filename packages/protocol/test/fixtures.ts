/**
 * Deterministic people, devices and servers for tests, the vector generator
 * and examples. Seeds are SHA-256 of a label, so every run (and every other
 * implementation reading the vectors) gets the same keys.
 */
import { sha256 } from "../src/crypto/hashing.ts";
import {
  type KeyPair,
  keyPairFromSeed,
  type SignatureProvider,
} from "../src/crypto/signature-provider.ts";
import { attestDeviceRecord, signDeviceRecord } from "../src/device-record/create.ts";
import { createDeviceRevocation } from "../src/device-record/revocation.ts";
import { parseServerName, type ServerName } from "../src/identifiers/server-name.ts";
import { parseUserId, type UserId } from "../src/identifiers/user-id.ts";
import {
  createServerKeyDocument,
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "../src/server-keys/document.ts";
import type { ServerKeyEntry } from "../src/server-keys/schema.ts";

/** 2025-01-01T00:00:00Z: the fixed "now" of the fixtures. */
export const startMs = Date.UTC(2025, 0, 1);
export const minuteMs = 60_000;
export const dayMs = 86_400_000;

export function seedOf(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(`parley test seed: ${label}`));
}

export function keyPairOf(provider: SignatureProvider, label: string): KeyPair {
  return keyPairFromSeed(provider, seedOf(label));
}

export interface TestServer {
  readonly name: ServerName;
  readonly keyPair: KeyPair;
  readonly documentBytes: Uint8Array;
  readonly keys: VerifiedServerKeyDocument;
}

/** A server whose single current key has been valid since 30 days before startMs. */
export function makeServer(
  provider: SignatureProvider,
  name: string,
  keyLabel = `${name} key 1`,
): TestServer {
  const serverName = parseServerName(name);
  const keyPair = keyPairOf(provider, keyLabel);
  const entry: ServerKeyEntry = {
    publicKey: keyPair.publicKey,
    validFromMs: startMs - 30 * dayMs,
    validUntilMs: null,
  };
  const documentBytes = createServerKeyDocument(
    provider,
    {
      server: serverName,
      serial: 1,
      issuedAtMs: startMs - 30 * dayMs,
      federationEndpoint: endpointOf(serverName),
      keys: [entry],
    },
    [keyPair],
  );
  const keys = verifyServerKeyDocument(documentBytes, {
    provider,
    nowMs: startMs,
    expectedServer: serverName,
  });
  return { name: serverName, keyPair, documentBytes, keys };
}

export function endpointOf(server: ServerName): string {
  const scheme = server.startsWith("localhost") || server.startsWith("127.") ? "http" : "https";
  return `${scheme}://${server}/_parley/federation/v1`;
}

export interface RecordOptions {
  readonly user: UserId | string;
  readonly device: KeyPair;
  readonly server: { readonly name: ServerName; readonly keyPair: KeyPair };
  readonly sequence?: number;
  readonly linked?: readonly KeyPair[];
  readonly validFromMs?: number;
  readonly validUntilMs?: number;
  /** The server's clock when it attests; defaults to validFromMs. */
  readonly attestAtMs?: number;
}

/** A device signs its record and its homeserver attests it: the encoded DIR. */
export function issueRecord(provider: SignatureProvider, options: RecordOptions): Uint8Array {
  const validFromMs = options.validFromMs ?? startMs;
  const request = signDeviceRecord(provider, options.device, {
    user: parseUserId(options.user),
    sequence: options.sequence ?? 1,
    linkedDeviceKeys: (options.linked ?? []).map((keyPair) => keyPair.publicKey),
    validFromMs,
    validUntilMs: options.validUntilMs ?? validFromMs + 90 * dayMs,
  });
  return attestDeviceRecord(provider, options.server, request, options.attestAtMs ?? validFromMs);
}

export function issueRevocation(
  provider: SignatureProvider,
  signer: KeyPair,
  user: string,
  device: KeyPair,
  revokedAtMs: number,
): Uint8Array {
  return createDeviceRevocation(provider, signer, {
    user: parseUserId(user),
    deviceKey: device.publicKey,
    revokedAtMs,
  });
}
