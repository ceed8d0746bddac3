import { ParleyError } from "@parley/protocol";
import {
  type Capabilities,
  type Extension,
  generateKeyPackageWithKey,
  type KeyPackage,
  type PrivateKeyPackage,
} from "ts-mls";
import {
  createCredential,
  credentialOf,
  type DeviceCredential,
  type DeviceIdentity,
} from "../credential/identity.ts";
import { type MlsCrypto, parleyCipherSuiteName } from "../crypto/mls-crypto.ts";
import { encodeKeyPackage } from "../group/wire.ts";
import { mlsLimits } from "../limits.ts";
import { keyPackageReference } from "../ts-mls-internals.ts";

/**
 * The `last_resort` KeyPackage extension (IANA MLS Extension Types, 0x000A,
 * from the MLS extensions draft): marks the one KeyPackage a homeserver may
 * hand out more than once, when the device's one-time KeyPackages run out.
 */
export const lastResortExtensionType = 0x000a;

/**
 * What a Parley leaf supports. Written out instead of ts-mls's
 * `defaultCapabilities()`, which adds random GREASE values (RFC 9420 §13.5)
 * from Math.random: Parley clients only talk to Parley clients, and leaf
 * nodes should not depend on an uninjected random source.
 */
export const parleyCapabilities: Capabilities = {
  versions: ["mls10"],
  ciphersuites: [parleyCipherSuiteName],
  extensions: [lastResortExtensionType],
  proposals: [],
  credentials: ["basic"],
};

/**
 * A KeyPackage with its private keys. `keyPackage` (an encoded MLSMessage) is
 * what the device publishes; the rest stays on the device, sealed at rest
 * (`sealKeyPackages`), until a Welcome uses it. A one-time bundle is deleted
 * once used; the last-resort one is kept until replaced.
 */
export interface KeyPackageBundle {
  readonly keyPackage: Uint8Array;
  /** RFC 9420 §5.2 KeyPackageRef, as named in a Welcome. */
  readonly reference: Uint8Array;
  readonly lastResort: boolean;
  readonly notAfterMs: number;
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
}

export interface KeyPackageBatch {
  readonly oneTime: readonly KeyPackageBundle[];
  readonly lastResort: KeyPackageBundle;
}

export interface KeyPackageOptions {
  /** The caller's clock, Unix milliseconds: the lifetime starts here (less the tolerated skew). */
  readonly nowMs: number;
}

/** `count` one-time KeyPackages and one last-resort KeyPackage for a device. */
export async function generateKeyPackages(
  crypto: MlsCrypto,
  identity: DeviceIdentity,
  options: KeyPackageOptions & { readonly count: number },
): Promise<KeyPackageBatch> {
  if (!Number.isSafeInteger(options.count) || options.count < 0) {
    throw new ParleyError("invalid_argument", "count must be a non-negative integer");
  }
  if (options.count > mlsLimits.keyPackageBatchMax) {
    throw new ParleyError("invalid_argument", `at most ${mlsLimits.keyPackageBatchMax} a batch`);
  }
  const oneTime: KeyPackageBundle[] = [];
  for (let index = 0; index < options.count; index += 1) {
    oneTime.push(await generateKeyPackage(crypto, identity, { nowMs: options.nowMs }));
  }
  const lastResort = await generateKeyPackage(crypto, identity, {
    nowMs: options.nowMs,
    lastResort: true,
  });
  return { oneTime, lastResort };
}

/**
 * One KeyPackage with a fresh leaf signature key, bound to the device by a
 * credential proof (credential/identity.ts), and fresh init and HPKE keys.
 */
export async function generateKeyPackage(
  crypto: MlsCrypto,
  identity: DeviceIdentity,
  options: KeyPackageOptions & { readonly lastResort?: boolean },
): Promise<KeyPackageBundle> {
  if (!Number.isSafeInteger(options.nowMs) || options.nowMs < mlsLimits.keyPackageClockSkewMs) {
    throw new ParleyError("invalid_argument", "nowMs must be a Unix time in milliseconds");
  }
  const { cipherSuite, signatureProvider } = crypto;
  const leafKeys = await cipherSuite.signature.keygen();
  const credential = createCredential(signatureProvider, identity, leafKeys.publicKey);
  const lastResort = options.lastResort === true;
  const extensions: Extension[] = lastResort
    ? [{ extensionType: lastResortExtensionType, extensionData: new Uint8Array() }]
    : [];
  const notBeforeMs = options.nowMs - mlsLimits.keyPackageClockSkewMs;
  const notAfterMs = options.nowMs + mlsLimits.keyPackageLifetimeMs;
  const lifetime = {
    notBefore: BigInt(Math.floor(notBeforeMs / 1000)),
    notAfter: BigInt(Math.floor(notAfterMs / 1000)),
  };
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    credential,
    parleyCapabilities,
    lifetime,
    extensions,
    leafKeys,
    cipherSuite,
  );
  return {
    keyPackage: encodeKeyPackage(publicPackage),
    reference: await keyPackageReference(publicPackage, cipherSuite),
    lastResort,
    notAfterMs: Number(lifetime.notAfter) * 1000,
    publicPackage,
    privatePackage,
  };
}

/** The device a bundle of ours belongs to. */
export function credentialOfBundle(bundle: KeyPackageBundle): DeviceCredential {
  const credential = credentialOf(bundle.publicPackage.leafNode.credential);
  if (credential === undefined) {
    throw new ParleyError("invalid_argument", "the bundle has no Parley credential");
  }
  return credential;
}
