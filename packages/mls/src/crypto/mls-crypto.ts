import {
  encodeBase64url,
  encodeCanonical,
  ParleyError,
  type RandomBytes,
  type SignatureProvider,
  sha256,
} from "@parley/protocol";
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type Credential,
  defaultCryptoProvider,
  defaultPaddingConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type KeyPackage,
  type LeafNode,
  nobleCryptoProvider,
} from "ts-mls";
import { credentialOf, verifyCredential } from "../credential/identity.ts";
import { mlsLimits } from "../limits.ts";
import type { MlsPrimitives } from "./primitives.ts";
import { reuseImportedKeys } from "./signature-keys.ts";

/**
 * Parley's one cipher suite: X25519, AES-128-GCM, SHA-256, Ed25519 (RFC 9420
 * §17.1, suite 1, mandatory to implement). Ed25519 matches the device
 * identity keys; one suite means no downgrade negotiation.
 */
export const parleyCipherSuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" as const;

/**
 * ts-mls's two crypto providers: "webcrypto" (its default: WebCrypto where
 * the platform has it, which on Node 20 is OpenSSL underneath) and "noble"
 * (pure JavaScript from the @noble libraries). Both pass the same RFC 9420
 * test vectors; they differ in speed and in where they run.
 */
export type MlsCryptoProviderName = "webcrypto" | "noble";

export interface MlsCryptoOptions {
  /** Checks credential proofs (node:crypto on servers, noble in browsers). */
  readonly signatureProvider: SignatureProvider;
  readonly provider?: MlsCryptoProviderName;
  /**
   * Random bytes for what ts-mls lets us inject: path secrets, the first
   * epoch secret, reuse guards, and the salts and nonces of sealed state.
   * HPKE ephemeral keys and key generation use the platform's generator
   * inside ts-mls and cannot be injected. Must be cryptographic outside tests.
   */
  readonly randomBytes?: RandomBytes;
  /** Past epochs whose application messages still decrypt; see mlsLimits.pastEpochWindow. */
  readonly pastEpochWindow?: number;
  /**
   * Keep WebCrypto's imported Ed25519 keys instead of importing them for each
   * signature (signature-keys.ts). On by default; off gives ts-mls's own
   * adapter unchanged, for comparison.
   */
  readonly reuseImportedSignatureKeys?: boolean;
  /**
   * Hash, HKDF, AES-GCM and Ed25519 to use instead of the provider's: on
   * Node, `nodePrimitives` from `@parley/mls/node` (synchronous OpenSSL; see
   * crypto/node-primitives.ts for why). HPKE and key generation stay the
   * provider's. Overrides `reuseImportedSignatureKeys`.
   */
  readonly primitives?: MlsPrimitives;
}

/** Everything cryptographic the MLS layer uses, made once and passed to every call. */
export interface MlsCrypto {
  readonly providerName: MlsCryptoProviderName;
  /** The name of the replacement primitives in use, or null for the provider's own. */
  readonly primitivesName: string | null;
  readonly cipherSuite: CiphersuiteImpl;
  readonly clientConfig: ClientConfig;
  readonly signatureProvider: SignatureProvider;
  readonly randomBytes: RandomBytes;
  readonly pastEpochWindow: number;
}

export async function createMlsCrypto(options: MlsCryptoOptions): Promise<MlsCrypto> {
  const providerName = options.provider ?? "webcrypto";
  const pastEpochWindow = options.pastEpochWindow ?? mlsLimits.pastEpochWindow;
  if (!Number.isSafeInteger(pastEpochWindow) || pastEpochWindow < 1) {
    throw new ParleyError("invalid_argument", "pastEpochWindow must be a positive integer");
  }
  const randomBytes = options.randomBytes ?? platformRandomBytes;
  const library = await getCiphersuiteImpl(
    getCiphersuiteFromName(parleyCipherSuiteName),
    providerName === "noble" ? nobleCryptoProvider : defaultCryptoProvider,
  );
  const cipherSuite = withPrimitives(library, options, randomBytes);
  const clientConfig = makeClientConfig(options.signatureProvider, pastEpochWindow);
  return {
    providerName,
    primitivesName: options.primitives?.name ?? null,
    cipherSuite,
    clientConfig,
    signatureProvider: options.signatureProvider,
    randomBytes,
    pastEpochWindow,
  };
}

/** The provider's suite with our randomness and, if given, the replacement primitives. */
function withPrimitives(
  library: CiphersuiteImpl,
  options: MlsCryptoOptions,
  randomBytes: RandomBytes,
): CiphersuiteImpl {
  const rng = { randomBytes };
  const primitives = options.primitives;
  if (primitives === undefined) {
    const signature =
      options.reuseImportedSignatureKeys === false
        ? library.signature
        : reuseImportedKeys(library.signature);
    return { ...library, signature, rng };
  }
  return {
    ...library,
    rng,
    hash: primitives.hash,
    kdf: primitives.kdf,
    hpke: {
      ...library.hpke,
      encryptAead: primitives.aead.encrypt,
      decryptAead: primitives.aead.decrypt,
    },
    signature: {
      keygen: () => library.signature.keygen(),
      sign: primitives.ed25519.sign,
      verify: primitives.ed25519.verify,
    },
  };
}

function platformRandomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

function makeClientConfig(provider: SignatureProvider, pastEpochWindow: number): ClientConfig {
  const verified = new VerifiedCredentialCache(mlsLimits.credentialCacheEntriesMax);
  return {
    keyRetentionConfig: {
      retainKeysForEpochs: pastEpochWindow,
      retainKeysForGenerations: mlsLimits.outOfOrderMessagesMax,
      maximumForwardRatchetSteps: mlsLimits.forwardRatchetStepsMax,
    },
    // ts-mls checks lifetimes against Date.now(), which a pure core must not
    // read; Parley checks KeyPackage lifetimes itself against the injected
    // clock (key-package/parse.ts). ts-mls still checks our own adds against
    // the real clock when creating a commit, and only then.
    lifetimeConfig: {
      maximumTotalLifetime: BigInt(Math.ceil(mlsLimits.keyPackageLifetimeMs / 1000)),
      validateLifetimeOnReceive: false,
    },
    // "The same client" is the same device, whatever its leaf key: this stops
    // a device from being added twice and lets an external rejoin find and
    // replace the device's old leaf.
    keyPackageEqualityConfig: {
      compareKeyPackages: (left: KeyPackage, right: KeyPackage) =>
        sameDeviceCredential(left.leafNode.credential, right.leafNode.credential),
      compareKeyPackageToLeafNode: (keyPackage: KeyPackage, leaf: LeafNode) =>
        sameDeviceCredential(keyPackage.leafNode.credential, leaf.credential),
    },
    paddingConfig: defaultPaddingConfig,
    authService: {
      validateCredential: async (credential: Credential, signaturePublicKey: Uint8Array) =>
        verified.check(credential, signaturePublicKey, () =>
          verifyCredential(provider, credential, signaturePublicKey),
        ),
    },
  };
}

function sameDeviceCredential(left: Credential, right: Credential): boolean {
  const leftDevice = credentialOf(left)?.device;
  return leftDevice !== undefined && leftDevice === credentialOf(right)?.device;
}

/**
 * Remembers credential proofs that verified, keyed by SHA-256 of the identity
 * bytes and the leaf key together. Sound because a proof's validity depends
 * on those bytes alone. Bounded; least recently used entries go first.
 */
class VerifiedCredentialCache {
  readonly #entries = new Set<string>();
  readonly #entriesMax: number;

  constructor(entriesMax: number) {
    this.#entriesMax = entriesMax;
  }

  check(credential: Credential, leafKey: Uint8Array, verify: () => boolean): boolean {
    if (credential.credentialType !== "basic") return false;
    const key = encodeBase64url(sha256(encodeCanonical([credential.identity, leafKey])));
    if (this.#entries.delete(key)) {
      this.#entries.add(key);
      return true;
    }
    if (!verify()) return false;
    this.#entries.add(key);
    if (this.#entries.size > this.#entriesMax) {
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return true;
  }
}
