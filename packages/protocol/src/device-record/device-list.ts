// A user's device list (docs/protocol.md §12.14): what a homeserver publishes
// so other servers can tell which device keys belong to one of its users and
// which were revoked. Every entry is self-validating — attested records and
// server-signed revocations — so the list needs no authenticated channel: a
// verifier checks each entry against the homeserver's key document, and
// the list as a whole only says "these are all the devices I vouch for now".

import { z } from "zod";
import { encodeCanonical } from "../codec/encode.ts";
import type { SignatureProvider } from "../crypto/signature-provider.ts";
import { isParleyError, ParleyError } from "../errors/parley-error.ts";
import type { DeviceId } from "../identifiers/device-id.ts";
import { parseUserId, serverOfUser, type UserId } from "../identifiers/user-id.ts";
import { deviceRecordBytesMax, deviceRevocationBytesMax, devicesPerUserMax } from "../limits.ts";
import type { VerifiedServerKeyDocument } from "../server-keys/document.ts";
import { decodeStructure } from "../validation/structure.ts";
import { verifyDeviceRevocation } from "./revocation.ts";
import { verifyDeviceRecord } from "./verify.ts";

/** Records in one list: a user has at most 32 devices (§5.1). */
export const deviceListRecordsMax = devicesPerUserMax;

/** Revocations in one list: the newest ones; older revoked devices have long-expired records. */
export const deviceListRevocationsMax = 64;

/** An encoded list: every record and revocation at its maximum size, plus the envelope. */
export const deviceListBytesMax =
  deviceListRecordsMax * deviceRecordBytesMax +
  deviceListRevocationsMax * deviceRevocationBytesMax +
  1024;

const deviceListDecodeLimits = {
  totalBytesMax: deviceListBytesMax,
  depthMax: 3,
  containerItemsMax: deviceListRevocationsMax,
  stringBytesMax: deviceRecordBytesMax,
};

const deviceListSchema = z.strictObject({
  version: z.literal(1),
  user: z.string(),
  records: z.array(z.instanceof(Uint8Array)).max(deviceListRecordsMax),
  revocations: z.array(z.instanceof(Uint8Array)).max(deviceListRevocationsMax),
});

export interface DeviceListFields {
  readonly user: UserId;
  /** Attested device records (§5), as their exact bytes. */
  readonly records: readonly Uint8Array[];
  /** Revocations (§5.8), as their exact bytes. */
  readonly revocations: readonly Uint8Array[];
}

/** What a verified list says about each device it names. */
export interface VerifiedDeviceList {
  readonly user: UserId;
  /** Devices whose current record is valid now, bound to `user` by its homeserver. */
  readonly bound: ReadonlySet<DeviceId>;
  /** Revoked devices, with the time each revocation took effect. */
  readonly revokedAtMs: ReadonlyMap<DeviceId, number>;
}

export type DeviceBinding =
  | { readonly kind: "bound" }
  | { readonly kind: "revoked"; readonly revokedAtMs: number }
  | { readonly kind: "unbound" };

export function encodeDeviceList(fields: DeviceListFields): Uint8Array {
  return encodeCanonical({
    version: 1,
    user: fields.user,
    records: [...fields.records],
    revocations: [...fields.revocations],
  });
}

/**
 * Verifies the list fetched for `user` from its homeserver: every record and
 * revocation must name `user` (else `user_mismatch`) and verify against the
 * homeserver's key document; a record that is merely outside its validity
 * window binds nothing and is skipped; any other failure refuses the whole
 * list, since a homeserver that serves a forged entry cannot be believed.
 */
export function verifyDeviceList(
  bytes: Uint8Array,
  expected: {
    readonly user: UserId;
    readonly provider: SignatureProvider;
    readonly serverKeys: VerifiedServerKeyDocument;
    readonly nowMs: number;
  },
): VerifiedDeviceList {
  const wire = decodeStructure(bytes, deviceListDecodeLimits, deviceListSchema, "device list");
  const user = parseUserId(wire.user);
  if (user !== expected.user) {
    throw new ParleyError("user_mismatch", `the list is for ${user}, not ${expected.user}`);
  }
  if (serverOfUser(user) !== expected.serverKeys.server) {
    throw new ParleyError(
      "server_mismatch",
      `${user} is not a user of ${expected.serverKeys.server}`,
    );
  }
  const verification = {
    provider: expected.provider,
    serverKeys: expected.serverKeys,
    nowMs: expected.nowMs,
  };
  const revokedAtMs = new Map<DeviceId, number>();
  for (const revocationBytes of wire.revocations) {
    const revocation = verifyDeviceRevocation(revocationBytes, verification);
    requireUser(revocation.user, user);
    const earlier = revokedAtMs.get(revocation.deviceId) ?? Number.POSITIVE_INFINITY;
    revokedAtMs.set(revocation.deviceId, Math.min(earlier, revocation.revokedAtMs));
  }
  const bound = new Set<DeviceId>();
  for (const recordBytes of wire.records) {
    const record = verifyCurrentRecord(recordBytes, verification);
    if (record === null) continue;
    requireUser(record.user, user);
    if (!revokedAtMs.has(record.deviceId)) bound.add(record.deviceId);
  }
  return { user, bound, revokedAtMs };
}

/** What `list` says about `device` for a message accepted at `acceptedAtMs`. */
export function deviceBinding(
  list: VerifiedDeviceList,
  device: DeviceId,
  acceptedAtMs: number,
): DeviceBinding {
  const revokedAtMs = list.revokedAtMs.get(device);
  // A message accepted before the revocation was sent while the device was good.
  if (revokedAtMs !== undefined && acceptedAtMs >= revokedAtMs) {
    return { kind: "revoked", revokedAtMs };
  }
  if (revokedAtMs !== undefined || list.bound.has(device)) return { kind: "bound" };
  return { kind: "unbound" };
}

function verifyCurrentRecord(
  bytes: Uint8Array,
  verification: Parameters<typeof verifyDeviceRecord>[1],
): ReturnType<typeof verifyDeviceRecord> | null {
  try {
    return verifyDeviceRecord(bytes, verification);
  } catch (error) {
    if (isParleyError(error) && ["record_expired", "record_not_yet_valid"].includes(error.code)) {
      return null;
    }
    throw error;
  }
}

function requireUser(named: UserId, user: UserId): void {
  if (named !== user) {
    throw new ParleyError("user_mismatch", `an entry of ${user}'s device list names ${named}`);
  }
}
