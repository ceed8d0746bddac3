import type { OwnDevice } from "@parley/client";
import type { DeviceId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { deviceRows } from "./device-rows.ts";

const day = (date: string) => Date.parse(`${date}T12:00:00Z`);
const device = (id: string, fields: Partial<OwnDevice>): OwnDevice => ({
  deviceId: id.padEnd(43, "x") as DeviceId,
  createdAtMs: day("2026-01-01"),
  revokedAtMs: null,
  current: false,
  ...fields,
});

describe("deviceRows", () => {
  it("puts this device first, live ones newest first, revoked ones last, and only others can be revoked", () => {
    const rows = deviceRows(
      [
        device("old", { createdAtMs: day("2026-01-02") }),
        device("gone", { createdAtMs: day("2026-03-01"), revokedAtMs: day("2026-03-04") }),
        device("this", { current: true }),
        device("new", { createdAtMs: day("2026-02-03") }),
      ],
      "en-GB",
    );
    expect(rows.map((row) => [row.shortId, row.description, row.revocable])).toEqual([
      ["thisxxxxxx", "This device", false],
      ["newxxxxxxx", "Added 3 Feb 2026", true],
      ["oldxxxxxxx", "Added 2 Jan 2026", true],
      ["gonexxxxxx", "Revoked 4 Mar 2026", false],
    ]);
  });
});
