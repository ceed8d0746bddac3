import { equalBytes } from "../codec/bytes.ts";
import { assertArgument, ParleyError } from "../errors/parley-error.ts";
import type { DeviceId } from "../identifiers/device-id.ts";
import type { UserId } from "../identifiers/user-id.ts";
import { deviceRegistryDevicesDefault } from "../limits.ts";
import { areMutuallyLinked, isRecordCurrent } from "./links.ts";
import type { VerifiedDeviceRevocation } from "./revocation.ts";
import type { VerifiedDeviceRecord } from "./verify.ts";

export type RecordOutcome =
  /** The record is now the device's current one; `superseded` is the one it replaced. */
  | { readonly kind: "accepted"; readonly superseded: VerifiedDeviceRecord | undefined }
  /** The very same record was already current: a harmless re-delivery, nothing changed. */
  | { readonly kind: "unchanged" }
  | { readonly kind: "rejected"; readonly error: ParleyError };

export type RevocationOutcome =
  /** The device is revoked from now on; `dropped` is the record it had, if any. */
  | { readonly kind: "revoked"; readonly dropped: VerifiedDeviceRecord | undefined }
  | { readonly kind: "unchanged" }
  | { readonly kind: "rejected"; readonly error: ParleyError };

/**
 * The known device records and revocations: what a server or client has
 * accepted so far. Pure (no IO, no clock: times are passed in) but mutable,
 * because a server holds many devices and copying them per update would cost
 * O(devices). Persisting it is the caller's business; feeding the stored
 * records back in order rebuilds it.
 *
 * Rules (docs/protocol.md §5.6-5.8):
 * - A higher sequence supersedes; a lower one, or the same sequence with other
 *   bytes, is `record_replayed`. The same bytes again are `unchanged`.
 * - A device key belongs to the user of its first accepted record; a record
 *   naming another user is `user_mismatch`.
 * - A revocation is final. One signed by the device applies to every record
 *   of that key; one signed by a homeserver applies to records naming that
 *   homeserver's user. Revocations are kept even for devices not seen yet, so
 *   a record arriving after its revocation is still refused (`device_revoked`).
 * - Records and revocations together are bounded by `entriesMax`
 *   (`capacity_exceeded`).
 */
export class DeviceRegistry {
  readonly entriesMax: number;
  readonly #records = new Map<DeviceId, VerifiedDeviceRecord>();
  readonly #devicesByUser = new Map<UserId, Set<DeviceId>>();
  /** Per device: revocations keyed by "device" or by the revoking server's user id. */
  readonly #revocations = new Map<DeviceId, Map<string, VerifiedDeviceRevocation>>();
  #revocationCount = 0;

  constructor(options: { readonly entriesMax?: number } = {}) {
    const entriesMax = options.entriesMax ?? deviceRegistryDevicesDefault;
    assertArgument(
      Number.isSafeInteger(entriesMax) && entriesMax > 0,
      "entriesMax must be a positive integer",
    );
    this.entriesMax = entriesMax;
  }

  /** Offers a verified record. Never throws for operating conditions; see RecordOutcome. */
  offer(record: VerifiedDeviceRecord): RecordOutcome {
    const revocation = this.#revocationFor(record.deviceId, record.user);
    if (revocation !== undefined) {
      return rejected(
        "device_revoked",
        `device ${record.deviceId} was revoked by its ${revocation.signedBy}`,
      );
    }
    const current = this.#records.get(record.deviceId);
    if (current === undefined) {
      if (this.#isFull()) return rejected("capacity_exceeded", "the device registry is full");
      this.#records.set(record.deviceId, record);
      const devices = this.#devicesByUser.get(record.user) ?? new Set<DeviceId>();
      devices.add(record.deviceId);
      this.#devicesByUser.set(record.user, devices);
      return { kind: "accepted", superseded: undefined };
    }
    if (current.user !== record.user) {
      return rejected("user_mismatch", `device ${record.deviceId} belongs to ${current.user}`);
    }
    if (record.sequence === current.sequence && equalBytes(record.bytes, current.bytes)) {
      return { kind: "unchanged" };
    }
    if (record.sequence <= current.sequence) {
      return rejected(
        "record_replayed",
        `sequence ${record.sequence} is not above the known sequence ${current.sequence}`,
      );
    }
    this.#records.set(record.deviceId, record);
    return { kind: "accepted", superseded: current };
  }

  /** Applies a verified revocation. Final: nothing removes it. */
  revoke(revocation: VerifiedDeviceRevocation): RevocationOutcome {
    const scope = revocationScope(revocation);
    const known = this.#revocations.get(revocation.deviceId);
    if (known?.has(scope)) return { kind: "unchanged" };
    const current = this.#records.get(revocation.deviceId);
    if (current !== undefined && current.user !== revocation.user) {
      return rejected("user_mismatch", `device ${revocation.deviceId} belongs to ${current.user}`);
    }
    if (current === undefined && this.#isFull()) {
      return rejected("capacity_exceeded", "the device registry is full");
    }
    const forDevice = known ?? new Map<string, VerifiedDeviceRevocation>();
    forDevice.set(scope, revocation);
    this.#revocations.set(revocation.deviceId, forDevice);
    this.#revocationCount += 1;
    if (current !== undefined) this.#forget(current);
    return { kind: "revoked", dropped: current };
  }

  /** The device's current record; undefined if unknown or revoked. */
  current(deviceId: DeviceId): VerifiedDeviceRecord | undefined {
    return this.#records.get(deviceId);
  }

  /** A revocation that applies to the device for `user`, if any. */
  revocationOf(deviceId: DeviceId, user: UserId): VerifiedDeviceRevocation | undefined {
    return this.#revocationFor(deviceId, user);
  }

  isRevoked(deviceId: DeviceId, user: UserId): boolean {
    return this.#revocationFor(deviceId, user) !== undefined;
  }

  /**
   * The devices linked with `deviceId` at `nowMs`: mutual links only, both
   * records current, neither revoked. The device itself is not included.
   */
  linkedDevices(deviceId: DeviceId, nowMs: number): readonly VerifiedDeviceRecord[] {
    const record = this.#records.get(deviceId);
    if (record === undefined || !isRecordCurrent(record, nowMs)) return [];
    const linked: VerifiedDeviceRecord[] = [];
    for (const otherId of record.linkedDeviceIds) {
      const other = this.#records.get(otherId);
      if (
        other !== undefined &&
        isRecordCurrent(other, nowMs) &&
        areMutuallyLinked(record, other)
      ) {
        linked.push(other);
      }
    }
    return linked;
  }

  /** Every current, unrevoked record naming `user`: what its homeserver attests, linked or not. */
  devicesOfUser(user: UserId, nowMs: number): readonly VerifiedDeviceRecord[] {
    const devices: VerifiedDeviceRecord[] = [];
    for (const deviceId of this.#devicesByUser.get(user) ?? []) {
      const record = this.#records.get(deviceId);
      if (record !== undefined && isRecordCurrent(record, nowMs)) devices.push(record);
    }
    return devices;
  }

  get size(): number {
    return this.#records.size + this.#revocationCount;
  }

  #forget(record: VerifiedDeviceRecord): void {
    this.#records.delete(record.deviceId);
    const devices = this.#devicesByUser.get(record.user);
    devices?.delete(record.deviceId);
    if (devices?.size === 0) this.#devicesByUser.delete(record.user);
  }

  #isFull(): boolean {
    return this.size >= this.entriesMax;
  }

  #revocationFor(deviceId: DeviceId, user: UserId): VerifiedDeviceRevocation | undefined {
    const forDevice = this.#revocations.get(deviceId);
    return forDevice?.get("device") ?? forDevice?.get(user);
  }
}

/** A device's own revocation covers the key; a server's covers only its user. */
function revocationScope(revocation: VerifiedDeviceRevocation): string {
  return revocation.signedBy === "device" ? "device" : revocation.user;
}

function rejected(
  code: "device_revoked" | "record_replayed" | "user_mismatch" | "capacity_exceeded",
  message: string,
) {
  return { kind: "rejected", error: new ParleyError(code, message) } as const;
}
