import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  countDelivery,
  type DeliveryCounts,
  isComplete,
  mergeCounts,
  type RoomAudience,
  type TrackedMessage,
} from "./delivery-counts.ts";

const ownServer = "home.test";

function audienceOf(
  servers: readonly string[],
  cursors: ReadonlyMap<string, number>,
): RoomAudience {
  return {
    servers: new Set(servers),
    localCursorByDevice: cursors,
    localCursorsAscending: [...cursors.values()].sort((a, b) => a - b),
  };
}

function message(
  position: number,
  senderDeviceId: string,
  stampingServer: string | null,
): TrackedMessage {
  return {
    roomId: "room",
    position,
    senderUserId: `alice@${ownServer}`,
    senderDeviceId,
    stampingServer,
    origin: null,
    originSequence: 0,
    acceptedAtMs: 0,
  };
}

const cursorsArbitrary = fc
  .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.nat(50)), {
    selector: ([device]) => device,
    maxLength: 30,
  })
  .map((pairs) => new Map(pairs));

describe("delivery counts", () => {
  it("counts exactly the other devices whose cursor covers the message", () => {
    fc.assert(
      fc.property(
        cursorsArbitrary,
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        (cursors, position, senderIsLocal) => {
          const sender = senderIsLocal ? ([...cursors.keys()][0] ?? "absent") : "absent";
          const counts = countDelivery(
            message(position, sender, null),
            audienceOf([ownServer], cursors),
            ownServer,
          );
          const others = [...cursors].filter(([device]) => device !== sender);
          expect(counts.devices.total).toBe(others.length);
          expect(counts.devices.delivered).toBe(
            others.filter(([, cursor]) => cursor >= position).length,
          );
          expect(counts.devices.delivered).toBeLessThanOrEqual(counts.devices.total);
        },
      ),
    );
  });

  it("counts this server and the stamping sponsor's server, when they have members", () => {
    const cursors = new Map<string, number>();
    const audience = audienceOf([ownServer, "sponsor.test", "leaf.test"], cursors);
    expect(countDelivery(message(1, "d", "sponsor.test"), audience, ownServer).servers).toEqual({
      delivered: 2,
      total: 3,
    });
    // A sponsor without members holds the message but is not one of the room's servers.
    expect(countDelivery(message(1, "d", "elsewhere.test"), audience, ownServer).servers).toEqual({
      delivered: 1,
      total: 3,
    });
  });

  it("never lets a merged count go backwards or exceed its total", () => {
    const tally = fc.record({ delivered: fc.nat(20), total: fc.nat(20) });
    const counts = fc.record({ servers: tally, devices: tally });
    fc.assert(
      fc.property(fc.array(counts, { minLength: 1, maxLength: 10 }), (reports) => {
        let merged: DeliveryCounts | null = null;
        for (const report of reports) {
          const next: DeliveryCounts = mergeCounts(merged, report);
          if (merged !== null) {
            expect(next.devices.delivered).toBeGreaterThanOrEqual(merged.devices.delivered);
            expect(next.servers.total).toBeGreaterThanOrEqual(merged.servers.total);
            expect(next.devices.delivered).toBeLessThanOrEqual(next.devices.total);
          }
          merged = next;
        }
      }),
    );
  });

  it("is complete only when every server and every device has the message", () => {
    expect(
      isComplete({ servers: { delivered: 1, total: 1 }, devices: { delivered: 2, total: 2 } }),
    ).toBe(true);
    expect(
      isComplete({ servers: { delivered: 1, total: 2 }, devices: { delivered: 2, total: 2 } }),
    ).toBe(false);
    expect(
      isComplete({ servers: { delivered: 1, total: 1 }, devices: { delivered: 1, total: 2 } }),
    ).toBe(false);
  });
});
