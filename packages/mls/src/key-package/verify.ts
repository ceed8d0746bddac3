import { equalBytes } from "@parley/protocol";
import type { KeyPackage } from "ts-mls";
import { credentialOf, type DeviceCredential } from "../credential/identity.ts";
import { type MlsCrypto, parleyCipherSuiteName } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { decodeWire } from "../group/wire.ts";
import { mlsLimits } from "../limits.ts";
import { keyPackageReference, verifyKeyPackageSignatures } from "../ts-mls-internals.ts";
import { lastResortExtensionType } from "./generate.ts";

/** A KeyPackage from someone else that passed every check Parley makes. */
export interface VerifiedKeyPackage extends DeviceCredential {
  readonly keyPackage: KeyPackage;
  readonly reference: Uint8Array;
  readonly lastResort: boolean;
  readonly notAfterMs: number;
}

export type KeyPackageVerification =
  | { readonly kind: "valid"; readonly keyPackage: VerifiedKeyPackage }
  | MlsFailure;

/** Decodes an encoded KeyPackage (MLSMessage) and checks it; see `checkKeyPackage`. */
export async function verifyKeyPackageBytes(
  crypto: MlsCrypto,
  bytes: Uint8Array,
  nowMs: number,
): Promise<KeyPackageVerification> {
  const decoded = decodeWire(bytes, "mls_key_package", mlsLimits.keyPackageBytesMax);
  if (decoded.kind === "failed") return decoded;
  return checkKeyPackage(crypto, decoded.value, nowMs);
}

/**
 * RFC 9420 §10.1 checks plus Parley's: the cipher suite, a Parley credential
 * whose proof binds the leaf key, both signatures, distinct init and HPKE
 * keys, and a lifetime that includes `nowMs` (the caller's clock; ts-mls
 * would read the real clock). A sponsor runs the same check on every add.
 */
export async function checkKeyPackage(
  crypto: MlsCrypto,
  keyPackage: KeyPackage,
  nowMs: number,
): Promise<KeyPackageVerification> {
  const invalid = (detail: string) => mlsFailure("mls_key_package_invalid", detail);
  if (keyPackage.version !== "mls10") return invalid("not MLS 1.0");
  if (keyPackage.cipherSuite !== parleyCipherSuiteName) return invalid("not Parley's cipher suite");
  const { leafNode } = keyPackage;
  if (leafNode.leafNodeSource !== "key_package") {
    return invalid("leaf node is not from a KeyPackage");
  }
  const credential = credentialOf(leafNode.credential);
  if (credential === undefined) return invalid("not a Parley credential");
  const proofValid = await crypto.clientConfig.authService.validateCredential(
    leafNode.credential,
    leafNode.signaturePublicKey,
  );
  if (!proofValid) return invalid("the credential proof does not bind the leaf key");
  if (!(await verifyKeyPackageSignatures(keyPackage, crypto.cipherSuite))) {
    return invalid("bad KeyPackage or leaf node signature");
  }
  if (equalBytes(keyPackage.initKey, leafNode.hpkePublicKey)) {
    return invalid("init key equals the leaf's encryption key");
  }
  const notBeforeMs = Number(leafNode.lifetime.notBefore) * 1000;
  const notAfterMs = Number(leafNode.lifetime.notAfter) * 1000;
  const skewMs = mlsLimits.keyPackageClockSkewMs;
  if (nowMs + skewMs < notBeforeMs || nowMs - skewMs > notAfterMs) {
    return invalid("outside its lifetime");
  }
  const lastResort = keyPackage.extensions.some(
    (extension) => extension.extensionType === lastResortExtensionType,
  );
  return {
    kind: "valid",
    keyPackage: {
      ...credential,
      keyPackage,
      reference: await keyPackageReference(keyPackage, crypto.cipherSuite),
      lastResort,
      notAfterMs,
    },
  };
}
