// How the devices dialog shows a user's devices: this one first, then the
// others newest first, revoked ones last; each with what can be done to it.
// Pure, so it is tested without a browser.

import type { OwnDevice } from "@parley/client";
import type { DeviceId } from "@parley/protocol";

export interface DeviceRow {
  readonly deviceId: DeviceId;
  /** The first characters of the device id: enough to tell devices apart. */
  readonly shortId: string;
  /** "This device", "Added 3 Mar 2026", or "Revoked 4 Mar 2026". */
  readonly description: string;
  readonly revocable: boolean;
}

const shortIdLength = 10;

function dayText(ms: number, locale: string | undefined): string {
  return new Date(ms).toLocaleDateString(locale, {
    day: "numeric",
    month: "short",
    year: "numeric",
  });
}

function rank(device: OwnDevice): number {
  if (device.current) return 0;
  return device.revokedAtMs === null ? 1 : 2;
}

export function deviceRows(devices: readonly OwnDevice[], locale?: string): DeviceRow[] {
  return [...devices]
    .sort((a, b) => rank(a) - rank(b) || b.createdAtMs - a.createdAtMs)
    .map((device) => ({
      deviceId: device.deviceId,
      shortId: device.deviceId.slice(0, shortIdLength),
      description: device.current
        ? "This device"
        : device.revokedAtMs !== null
          ? `Revoked ${dayText(device.revokedAtMs, locale)}`
          : `Added ${dayText(device.createdAtMs, locale)}`,
      revocable: !device.current && device.revokedAtMs === null,
    }));
}
