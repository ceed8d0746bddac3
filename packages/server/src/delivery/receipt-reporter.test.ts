// Refusals in receipts (docs/protocol.md §12.13): a server tells the sender's
// server which of its users' messages it refused, once each, at most 64 per
// origin between two frames, and keeps them while no frame can be queued.

import { randomBytes } from "node:crypto";
import {
  type OriginReceipt,
  type ReceiptsFrame,
  type RefusalCode,
  type StoredMessage,
  sponsorNodeId,
} from "@parley/federation";
import { generateRoomId, parseServerName, parseUserId, type RoomId } from "@parley/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/storage.ts";
import type { RoomAudience } from "./delivery-counts.ts";
import { ReceiptReporter } from "./receipt-reporter.ts";

const home = "home.test";
const peer = parseServerName("peer.test");
const origin = sponsorNodeId(peer, 1);
const room = generateRoomId((length) => new Uint8Array(randomBytes(length)));
const audience: RoomAudience = {
  servers: new Set([home, peer]),
  localCursorsAscending: [],
  localCursorByDevice: new Map(),
};

let storage: Storage;
let sent: Array<{ peer: string; frame: ReceiptsFrame }>;
let linkUp: boolean;
let reporter: ReceiptReporter;

function stored(sender: string, sequence: number, roomId: RoomId = room): StoredMessage {
  return {
    message: {
      room: roomId,
      origin,
      sequence,
      controlIndex: 1,
      acceptedAtMs: 0,
      sender: parseUserId(sender),
      clientMessageId: `m${sequence}`,
      body: new Uint8Array(),
    },
    verdict: "refused",
  };
}

/** The receipts for `origin` in `room` in the frames sent to the peer since `from`. */
function receiptsSince(from: number): OriginReceipt[] {
  return sent
    .slice(from)
    .filter((one) => one.peer === peer)
    .flatMap((one) => one.frame.rooms)
    .filter((entry) => entry.room === room)
    .flatMap((entry) => entry.receipts)
    .filter((receipt) => receipt.origin === origin);
}

async function report(): Promise<void> {
  await reporter.report(async () => audience);
}

beforeEach(async () => {
  storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  await storage.migrations.migrateToLatest();
  sent = [];
  linkUp = true;
  reporter = new ReceiptReporter({
    storage,
    serverName: () => home,
    nowMs: () => 1_000,
    heldMark: () => 0,
    send: (to, frame) => {
      if (!linkUp) return false;
      sent.push({ peer: to, frame });
      return true;
    },
  });
});

afterEach(async () => {
  await storage.close();
});

describe("refusals in receipts", () => {
  it("tells the sender's server each refusal once", async () => {
    reporter.refused(room, stored("bob@peer.test", 3), "not_sponsor");
    reporter.refused(room, stored("bob@peer.test", 3), "not_sponsor");
    reporter.refused(room, stored("bob@peer.test", 5), "banned");
    await report();
    expect(receiptsSince(0).map((receipt) => receipt.refused)).toEqual([
      [
        [3, "not_sponsor"],
        [5, "banned"],
      ],
    ]);
    const before = sent.length;
    await report();
    expect(receiptsSince(before).flatMap((receipt) => receipt.refused)).toEqual([]);

    reporter.refused(room, stored("bob@peer.test", 6), "signature_invalid");
    await report();
    expect(receiptsSince(before).flatMap((receipt) => receipt.refused)).toEqual([
      [6, "signature_invalid"],
    ]);
  });

  it("says nothing about this server's own users", async () => {
    reporter.refused(room, stored(`alice@${home}`, 1), "forbidden");
    await report();
    expect(sent).toEqual([]);
  });

  it("keeps refusals while the peer cannot be reached", async () => {
    linkUp = false;
    reporter.refused(room, stored("bob@peer.test", 2), "not_member");
    await report();
    expect(sent).toEqual([]);
    linkUp = true;
    await report();
    expect(receiptsSince(0).flatMap((receipt) => receipt.refused)).toEqual([[2, "not_member"]]);
  });

  it("sends the newest 64 when more were refused between two frames", async () => {
    const codes: RefusalCode[] = ["banned", "not_member", "forbidden"];
    for (let sequence = 1; sequence <= 100; sequence += 1) {
      reporter.refused(room, stored("bob@peer.test", sequence), codes[sequence % 3] ?? "banned");
    }
    await report();
    const refused = receiptsSince(0).flatMap((receipt) => receipt.refused);
    expect(refused.map(([sequence]) => sequence)).toEqual(
      Array.from({ length: 64 }, (_, index) => 37 + index),
    );
    expect(refused.every(([sequence, code]) => code === codes[sequence % 3])).toBe(true);
  });
});
