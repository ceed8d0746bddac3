import { clockSkewToleranceMs } from "../limits.ts";
import type { VerifiedDeviceRecord } from "./verify.ts";

/**
 * Two devices are one user's devices only when each one's record lists the
 * other and both records name the same user. A one-sided claim links
 * nothing: a device cannot join someone's account by listing their devices,
 * and a homeserver cannot add a device that the user's devices do not list.
 *
 * Links are direct, not transitive: if A and B are linked and B and C are
 * linked but A does not list C, A and C are not linked. Every device lists
 * every other device of its user, so one compromised device cannot vouch
 * for new devices on behalf of the others.
 */
export function areMutuallyLinked(
  left: VerifiedDeviceRecord,
  right: VerifiedDeviceRecord,
): boolean {
  return (
    left.user === right.user &&
    left.deviceId !== right.deviceId &&
    left.linkedDeviceIds.includes(right.deviceId) &&
    right.linkedDeviceIds.includes(left.deviceId)
  );
}

/** Whether `record` holds at `nowMs`, by the same rule as verification (start may be up to the skew tolerance ahead). */
export function isRecordCurrent(record: VerifiedDeviceRecord, nowMs: number): boolean {
  return record.validFromMs <= nowMs + clockSkewToleranceMs && nowMs < record.validUntilMs;
}
