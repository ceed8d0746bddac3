// The homeserver's KeyPackage duties (docs/protocol.md §10.12 and §13.4): a
// device publishes one-time KeyPackages and one last-resort KeyPackage, each
// checked with @parley/mls before it is stored; it counts what it has left to
// know when to refill; and anyone may claim one KeyPackage for every live
// device of users of this server, which the client API and the federation
// claim handler both answer through `claimForUsers`.

import { createMlsCrypto, type MlsCrypto, mlsLimits, verifyKeyPackageBytes } from "@parley/mls";
import { nodePrimitives } from "@parley/mls/node";
import {
  type DeviceId,
  ParleyError,
  type ServerName,
  type SignatureProvider,
  serverOfUser,
  type UserId,
  userIdParts,
} from "@parley/protocol";
import { keyPackageClaimDevicesMax, keyPackagesPerDeviceMax } from "../limits.ts";
import type { KeyPackageCount, NewKeyPackage, Storage } from "../storage/storage.ts";

/** One KeyPackage handed out for one device. */
export interface ClaimedDevicePackage {
  readonly userId: UserId;
  readonly deviceId: string;
  readonly keyPackage: Uint8Array;
  readonly lastResort: boolean;
}

/** A user of this claim that got nothing, and why (a code of the error table). */
export interface ClaimFailure {
  readonly userId: UserId;
  /** `forbidden` only for users of another server (it, or this one, blocks the other). */
  readonly code: "not_found" | "unavailable" | "forbidden";
  readonly message: string;
}

export interface ClaimResult {
  /** Packages by user in the order asked, each user's devices oldest first. */
  readonly packages: readonly ClaimedDevicePackage[];
  readonly failures: readonly ClaimFailure[];
}

/** What `publish` answers: what the device has now. */
export interface PublishResult extends KeyPackageCount {
  readonly oneTimeAdded: number;
}

export interface KeyPackageServiceDependencies {
  readonly storage: Storage;
  /** Checks credential proofs inside KeyPackages. */
  readonly signatureProvider: SignatureProvider;
  readonly nowMs: () => number;
}

export class KeyPackageService {
  readonly #storage: Storage;
  readonly #nowMs: () => number;
  readonly #crypto: Promise<MlsCrypto>;

  constructor(dependencies: KeyPackageServiceDependencies) {
    this.#storage = dependencies.storage;
    this.#nowMs = dependencies.nowMs;
    this.#crypto = createMlsCrypto({
      signatureProvider: dependencies.signatureProvider,
      primitives: nodePrimitives,
    });
  }

  /**
   * Checks every package (RFC 9420 §10.1 and Parley's rules, through
   * @parley/mls), that its credential names this device and user, that each
   * sits in the right slot (one-time or last resort) and that its lifetime is
   * not longer than Parley allows; then stores them all, or none.
   */
  async publish(
    device: { readonly userId: UserId; readonly deviceId: DeviceId },
    upload: { readonly oneTime: readonly Uint8Array[]; readonly lastResort: Uint8Array | null },
  ): Promise<PublishResult> {
    const nowMs = this.#nowMs();
    const oneTime: NewKeyPackage[] = [];
    for (const [index, bytes] of upload.oneTime.entries()) {
      oneTime.push(await this.#check(device, bytes, false, `oneTime[${index}]`, nowMs));
    }
    const lastResort =
      upload.lastResort === null
        ? null
        : await this.#check(device, upload.lastResort, true, "lastResort", nowMs);
    const outcome = await this.#storage.keyPackages.publish({
      deviceId: device.deviceId,
      oneTime,
      lastResort,
      publishedAtMs: nowMs,
      oneTimeMax: keyPackagesPerDeviceMax,
    });
    switch (outcome.kind) {
      case "published":
        return {
          oneTimeAdded: outcome.oneTimeAdded,
          oneTime: outcome.oneTimeCount,
          lastResort: outcome.lastResort,
        };
      case "too-many":
        throw new ParleyError(
          "capacity_exceeded",
          `a device holds at most ${keyPackagesPerDeviceMax} one-time KeyPackages; it has ${outcome.oneTimeCount}`,
        );
      case "unknown-device":
        throw new ParleyError("device_revoked", "this device is revoked");
    }
  }

  /** What the device has left for claims now. */
  count(deviceId: DeviceId): Promise<KeyPackageCount> {
    return this.#storage.keyPackages.count(deviceId, this.#nowMs());
  }

  /**
   * One KeyPackage for every live device of each named user of this server
   * (`localServer`), claimed in one transaction. A user of another server, or
   * one with no live device, is a failure of that user alone; a device with
   * no unexpired package is left out (the caller sees it missing).
   */
  async claimForUsers(localServer: ServerName, users: readonly UserId[]): Promise<ClaimResult> {
    const failures: ClaimFailure[] = [];
    const wanted: { readonly userId: UserId; readonly deviceIds: readonly string[] }[] = [];
    let deviceCount = 0;
    for (const userId of new Set(users)) {
      if (serverOfUser(userId) !== localServer) {
        failures.push({ userId, code: "unavailable", message: "not a user of this server" });
        continue;
      }
      const devices = await this.#storage.devices.listForAccount(userIdParts(userId).localPart);
      const deviceIds = devices
        .filter((device) => device.revokedAtMs === null)
        .map((device) => device.deviceId);
      if (deviceIds.length === 0) {
        failures.push({ userId, code: "not_found", message: "no such user, or no live device" });
        continue;
      }
      deviceCount += deviceIds.length;
      if (deviceCount > keyPackageClaimDevicesMax) {
        throw new ParleyError(
          "capacity_exceeded",
          `a claim covers at most ${keyPackageClaimDevicesMax} devices; ask for fewer users`,
        );
      }
      wanted.push({ userId, deviceIds });
    }
    const claimed = await this.#storage.keyPackages.claim(
      wanted.flatMap((user) => user.deviceIds),
      this.#nowMs(),
    );
    const byDevice = new Map(claimed.map((one) => [one.deviceId, one]));
    const packages: ClaimedDevicePackage[] = [];
    for (const user of wanted) {
      for (const deviceId of user.deviceIds) {
        const one = byDevice.get(deviceId);
        if (one === undefined) continue;
        packages.push({
          userId: user.userId,
          deviceId,
          keyPackage: one.keyPackage,
          lastResort: one.lastResort,
        });
      }
    }
    return { packages, failures };
  }

  /**
   * Whether a package another server handed out is what it says (§13.4): a
   * valid KeyPackage now, its credential naming `user` and `device`, and a
   * last-resort package exactly when it says so.
   */
  async isValidClaimed(claimed: {
    readonly user: UserId;
    readonly device: DeviceId;
    readonly keyPackage: Uint8Array;
    readonly lastResort: boolean;
  }): Promise<boolean> {
    const verified = await verifyKeyPackageBytes(
      await this.#crypto,
      claimed.keyPackage,
      this.#nowMs(),
    );
    if (verified.kind === "failed") return false;
    const { keyPackage } = verified;
    return (
      keyPackage.device === claimed.device &&
      keyPackage.user === claimed.user &&
      keyPackage.lastResort === claimed.lastResort
    );
  }

  async #check(
    device: { readonly userId: UserId; readonly deviceId: DeviceId },
    bytes: Uint8Array,
    lastResortSlot: boolean,
    where: string,
    nowMs: number,
  ): Promise<NewKeyPackage> {
    const verified = await verifyKeyPackageBytes(await this.#crypto, bytes, nowMs);
    if (verified.kind === "failed") {
      throw new ParleyError(verified.code, `${where}: ${verified.detail}`);
    }
    const { keyPackage } = verified;
    if (keyPackage.device !== device.deviceId || keyPackage.user !== device.userId) {
      throw new ParleyError("forbidden", `${where}: its credential names another device or user`);
    }
    if (keyPackage.lastResort !== lastResortSlot) {
      throw new ParleyError(
        "mls_key_package_invalid",
        lastResortSlot
          ? `${where}: the last-resort KeyPackage lacks the last_resort extension`
          : `${where}: a one-time KeyPackage carries the last_resort extension`,
      );
    }
    const lifetimeMaxMs = mlsLimits.keyPackageLifetimeMs + mlsLimits.keyPackageClockSkewMs;
    if (keyPackage.notAfterMs > nowMs + lifetimeMaxMs) {
      throw new ParleyError("mls_key_package_invalid", `${where}: lifetime over 90 days`);
    }
    return {
      reference: keyPackage.reference,
      keyPackage: bytes,
      notAfterMs: keyPackage.notAfterMs,
    };
  }
}
