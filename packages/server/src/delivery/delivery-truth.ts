// Delivery truth on one server, both directions (docs/protocol.md §10.14,
// §12.13): the tracker counts this server's users' messages and pushes the
// counts to their sockets; the reporter tells other servers how far their
// users' messages have come here. The stream hub feeds both the events it
// publishes; the federation runtime carries receipts between servers. Both
// run in one round per interval and share its reading of each room's
// audience, so a room both counted and reported on is read once.

import type { ReceiptsFrame, RefusalCode, StoredMessage } from "@parley/federation";
import type { RoomId, ServerName } from "@parley/protocol";
import { deliveryFrameIntervalMs, receiptIntervalMs } from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { StoredEvent } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import type { RoomAudience } from "./delivery-counts.ts";
import { type AudienceOf, DeliveryTracker } from "./delivery-tracker.ts";
import { ReceiptReporter } from "./receipt-reporter.ts";
import { readRoomAudience } from "./room-audience.ts";

/** Receipts go out every this many counting rounds (receiptIntervalMs apart). */
const roundsPerReceipts = Math.max(1, Math.round(receiptIntervalMs / deliveryFrameIntervalMs));

/** What delivery truth needs of the federation runtime (federation-runtime.ts). */
export interface ReceiptCarrier {
  onReceipts(handler: (peer: ServerName, frame: ReceiptsFrame) => void): void;
  sendReceipts(peer: ServerName, frame: ReceiptsFrame): boolean;
  heldMark(room: RoomId, origin: string): number;
}

export interface DeliveryTruthDependencies {
  readonly storage: Storage;
  readonly serverName: () => string;
  readonly nowMs: () => number;
  /** The newest acknowledgement open sockets of this device sent (0 if none). */
  readonly acknowledgedOf: (deviceId: string) => number;
  /** Sends a frame to every stream socket of the user; false if the user has none. */
  readonly sendToUser: (userId: string, frame: string) => boolean;
  readonly logger: Logger;
}

export class DeliveryTruth {
  readonly #tracker: DeliveryTracker;
  readonly #reporter: ReceiptReporter;
  readonly #dependencies: DeliveryTruthDependencies;
  #carrier: ReceiptCarrier | null = null;
  #timer: NodeJS.Timeout | undefined;
  #round = 0;
  #running = false;

  constructor(dependencies: DeliveryTruthDependencies) {
    this.#dependencies = dependencies;
    this.#tracker = new DeliveryTracker(dependencies);
    this.#reporter = new ReceiptReporter({
      ...dependencies,
      heldMark: (room, origin) => this.#carrier?.heldMark(room as RoomId, origin) ?? 0,
      send: (peer, frame) => this.#carrier?.sendReceipts(peer as ServerName, frame) ?? false,
    });
  }

  /** Receipts travel from now on; before, this server counts only its own devices. */
  connect(carrier: ReceiptCarrier): void {
    this.#carrier = carrier;
    carrier.onReceipts((peer, frame) => this.#tracker.receiptsArrived(peer, frame));
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#runRound().catch((error: unknown) =>
        this.#dependencies.logger.error({ err: error }, "delivery counts or receipts failed"),
      );
    }, deliveryFrameIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Events as the stream publishes them. */
  observe(events: readonly StoredEvent[]): void {
    this.#tracker.observe(events);
    this.#reporter.observe(events);
  }

  /** A message stored here that this server refused: its sender's server hears of it (§12.13). */
  refused(room: RoomId, stored: StoredMessage, code: RefusalCode): void {
    this.#reporter.refused(room, stored, code);
  }

  /** A socket of the user became ready: it gets the current counts. */
  connected(userId: string): void {
    this.#tracker.resend(userId);
  }

  /** Counts (every round) and reports (every roundsPerReceipts), reading each room's audience once. */
  async #runRound(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const audiences = new Map<string, Promise<RoomAudience | null>>();
      const audienceOf: AudienceOf = (roomId) => {
        let reading = audiences.get(roomId);
        if (reading === undefined) {
          reading = readRoomAudience(this.#dependencies, roomId);
          audiences.set(roomId, reading);
        }
        return reading;
      };
      this.#round += 1;
      await this.#tracker.count(audienceOf);
      if (this.#round % roundsPerReceipts === 0) await this.#reporter.report(audienceOf);
    } finally {
      this.#running = false;
    }
  }
}
