// What every MLS operation of one device needs: the MlsCrypto (made once,
// on first use: it loads the cipher suite), the device's identity for
// credentials, the key that seals state at rest, and the clock.

import {
  createMlsCrypto,
  type DeviceIdentity,
  type MlsCrypto,
  type MlsPrimitives,
} from "@parley/mls";
import type { DeviceId, SignatureProvider } from "@parley/protocol";
import type { MlsRecords } from "./mls-records.ts";

/** The options of `ParleyClientOptions.encryption`. */
export interface EncryptionOptions {
  /**
   * The key (32 bytes) that seals MLS state and private KeyPackages at rest.
   * Default: a random key made on first use and kept in the store beside the
   * device key (README, "Encryption at rest", says what that protects).
   * Pass one to keep it elsewhere (an OS keychain); then pass the same key
   * every time, or the sealed state cannot be opened.
   */
  readonly stateKey?: Uint8Array;
  /**
   * The cipher suite's primitives to use instead of WebCrypto's: on Node,
   * `nodePrimitives` (`@parley/client/node`'s `nodeClientOptions` sets it).
   */
  readonly primitives?: MlsPrimitives;
  /** One-time KeyPackages to hold at the server after a refill. Default 50 (at most 200). */
  readonly keyPackagesTarget?: number;
  /** Refill when the server holds fewer one-time KeyPackages than this. Default 20. */
  readonly keyPackagesRefillBelow?: number;
  /**
   * How long a commit waits for a certificate covering it before it is
   * refused (`commit-refused`). Default 10 s.
   */
  readonly certificateWaitMs?: number;
}

export class MlsContext {
  readonly identity: DeviceIdentity;
  readonly deviceId: DeviceId;
  readonly records: MlsRecords;
  readonly options: EncryptionOptions;
  readonly nowMs: () => number;
  /** Also checks the sponsors' certificates (commit-certificates.ts). */
  readonly signatureProvider: SignatureProvider;
  #crypto: Promise<MlsCrypto> | undefined;
  #stateKey: Promise<Uint8Array> | undefined;

  constructor(dependencies: {
    readonly identity: DeviceIdentity;
    readonly deviceId: DeviceId;
    readonly records: MlsRecords;
    readonly options: EncryptionOptions;
    readonly signatureProvider: SignatureProvider;
    readonly nowMs: () => number;
  }) {
    this.identity = dependencies.identity;
    this.deviceId = dependencies.deviceId;
    this.records = dependencies.records;
    this.options = dependencies.options;
    this.nowMs = dependencies.nowMs;
    this.signatureProvider = dependencies.signatureProvider;
  }

  crypto(): Promise<MlsCrypto> {
    this.#crypto ??= createMlsCrypto({
      signatureProvider: this.signatureProvider,
      ...(this.options.primitives === undefined ? {} : { primitives: this.options.primitives }),
    });
    return this.#crypto;
  }

  stateKey(): Promise<Uint8Array> {
    this.#stateKey ??= this.records.stateKey(this.options.stateKey);
    return this.#stateKey;
  }
}
