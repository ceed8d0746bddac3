import {
  concatBytes,
  type DecodeLimits,
  type DeviceId,
  decodeCanonical,
  deviceIdFromPublicKey,
  encodeCanonical,
  isAcceptablePublicKey,
  type KeyPair,
  parseDeviceId,
  parseUserId,
  publicKeyOfDevice,
  type SignatureProvider,
  signatureBytes,
  type UserId,
} from "@parley/protocol";
import type { Credential, CredentialBasic } from "ts-mls";
import { isCborMap } from "../cbor-map.ts";

/** Who an MLS leaf is: one device of one user. */
export interface DeviceCredential {
  readonly user: UserId;
  readonly device: DeviceId;
}

/** The device identity that makes credentials: its user and its Ed25519 key pair (the DI). */
export interface DeviceIdentity {
  readonly user: UserId;
  readonly keyPair: KeyPair;
}

/**
 * The signature context of a credential proof. It follows the convention of
 * @parley/protocol's `signatureContexts` (UTF-8 context, a zero byte, then
 * canonical CBOR) and belongs in that table; it lives here until the
 * protocol package's owner adds it.
 */
export const credentialProofContext = "parley/v1/mls-leaf-key";

const credentialVersion = 1;

/**
 * An identity is a few hundred bytes at most: two ids and a signature. A
 * larger one is refused before decoding.
 */
const identityDecodeLimits: DecodeLimits = {
  totalBytesMax: 1024,
  depthMax: 2,
  containerItemsMax: 8,
  stringBytesMax: 512,
};

/**
 * The identity bytes of a Parley basic credential (RFC 9420 §5.3.1):
 *
 *     canonical CBOR { "device": DeviceId text, "proof": bytes(64),
 *                      "user": UserId text, "version": 1 }
 *
 * `proof` is the device identity key's Ed25519 signature over
 *
 *     UTF-8("parley/v1/mls-leaf-key") || 0x00 || canonical CBOR
 *       { "device": DeviceId, "leafKey": bytes(leaf signature public key),
 *         "user": UserId, "version": 1 }
 *
 * so a leaf's signature key is bound to exactly one device (the DeviceId is
 * the device's Ed25519 public key, so anyone can check the proof) and the
 * user the device claims. Whether that device really belongs to that user
 * is the device identity record's business (@parley/protocol); callers check
 * the pair against their DeviceRegistry. The DI private key never enters MLS
 * state: each KeyPackage gets a fresh leaf signature key.
 */
export function createCredential(
  provider: SignatureProvider,
  identity: DeviceIdentity,
  leafSignaturePublicKey: Uint8Array,
): CredentialBasic {
  const device = deviceIdFromPublicKey(identity.keyPair.publicKey);
  const proof = provider.sign(
    identity.keyPair,
    proofMessage(identity.user, device, leafSignaturePublicKey),
  );
  const bytes = encodeCanonical({
    device,
    proof,
    user: identity.user,
    version: credentialVersion,
  });
  return { credentialType: "basic", identity: bytes };
}

export interface DecodedIdentity extends DeviceCredential {
  readonly proof: Uint8Array;
}

/** The parts of Parley identity bytes, or undefined unless they are exactly that shape. Never throws. */
export function decodeIdentity(bytes: Uint8Array): DecodedIdentity | undefined {
  try {
    const value = decodeCanonical(bytes, identityDecodeLimits);
    if (!isCborMap(value)) return undefined;
    if (Object.keys(value).sort().join(",") !== "device,proof,user,version") return undefined;
    const { device, proof, user, version } = value;
    if (version !== credentialVersion) return undefined;
    if (typeof device !== "string" || typeof user !== "string") return undefined;
    if (!(proof instanceof Uint8Array) || proof.length !== signatureBytes) return undefined;
    return { user: parseUserId(user), device: parseDeviceId(device), proof };
  } catch {
    return undefined;
  }
}

/**
 * Decoded identities, by the identity bytes object. ts-mls never mutates a
 * decoded credential, so the answer holds as long as the object lives. It
 * matters: ts-mls compares every added KeyPackage with every other one and
 * with every leaf ("the same client"; docs/protocol.md §13.2), so a commit adding 500 devices
 * asks a quarter of a million times.
 */
const decodedIdentities = new WeakMap<Uint8Array, DeviceCredential | null>();

/** The device and user of an MLS credential, if it is a Parley credential (proof not checked). */
export function credentialOf(credential: Credential): DeviceCredential | undefined {
  if (credential.credentialType !== "basic") return undefined;
  const known = decodedIdentities.get(credential.identity);
  if (known !== undefined) return known ?? undefined;
  const decoded = decodeIdentity(credential.identity);
  const result = decoded === undefined ? undefined : { user: decoded.user, device: decoded.device };
  decodedIdentities.set(credential.identity, result ?? null);
  return result;
}

/** Whether `credential` is a Parley credential whose proof binds `leafSignaturePublicKey`. */
export function verifyCredential(
  provider: SignatureProvider,
  credential: Credential,
  leafSignaturePublicKey: Uint8Array,
): boolean {
  if (credential.credentialType !== "basic") return false;
  const decoded = decodeIdentity(credential.identity);
  if (decoded === undefined) return false;
  const deviceKey = publicKeyOfDevice(decoded.device);
  if (!isAcceptablePublicKey(deviceKey)) return false;
  const message = proofMessage(decoded.user, decoded.device, leafSignaturePublicKey);
  return provider.verify(deviceKey, message, decoded.proof);
}

function proofMessage(user: UserId, device: DeviceId, leafKey: Uint8Array): Uint8Array {
  const body = encodeCanonical({ device, leafKey, user, version: credentialVersion });
  return concatBytes(new TextEncoder().encode(`${credentialProofContext}\0`), body);
}

export function sameDevice(left: DeviceCredential, right: DeviceCredential): boolean {
  return left.device === right.device;
}
