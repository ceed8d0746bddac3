// Delivery truth on one server, both directions (docs/protocol.md §10.14,
// §12.13): the tracker counts this server's users' messages and pushes the
// counts to their sockets; the reporter tells other servers how far their
// users' messages have come here. The stream hub feeds both the events it
// publishes; the federation runtime carries receipts between servers.

import type { ReceiptsFrame } from "@parley/federation";
import type { RoomId, ServerName } from "@parley/protocol";
import { deliveryFrameIntervalMs } from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { StoredEvent } from "../storage/records.ts";
import { DeliveryTracker, type DeliveryTrackerDependencies } from "./delivery-tracker.ts";
import { ReceiptReporter } from "./receipt-reporter.ts";

/** How often receipts go to each peer at most (§12.13). */
const receiptIntervalMs = 1000;

/** What delivery truth needs of the federation runtime (federation-runtime.ts). */
export interface ReceiptCarrier {
  onReceipts(handler: (peer: ServerName, frame: ReceiptsFrame) => void): void;
  sendReceipts(peer: ServerName, frame: ReceiptsFrame): boolean;
  heldMark(room: RoomId, origin: string): number;
}

/** What both directions need: storage, the server's name, the clock, the sockets. */
export type DeliveryTruthDependencies = DeliveryTrackerDependencies;

export class DeliveryTruth {
  readonly #tracker: DeliveryTracker;
  readonly #reporter: ReceiptReporter;
  readonly #logger: Logger;
  #carrier: ReceiptCarrier | null = null;
  #timers: NodeJS.Timeout[] = [];

  constructor(dependencies: DeliveryTruthDependencies) {
    this.#logger = dependencies.logger;
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
    const counting = setInterval(
      () => this.#run(this.#tracker.count(), "counting deliveries"),
      deliveryFrameIntervalMs,
    );
    const reporting = setInterval(
      () => this.#run(this.#reporter.report(), "sending receipts"),
      receiptIntervalMs,
    );
    counting.unref();
    reporting.unref();
    this.#timers = [counting, reporting];
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /** Events as the stream publishes them. */
  observe(events: readonly StoredEvent[]): void {
    this.#tracker.observe(events);
    this.#reporter.observe(events);
  }

  /** A socket of the user became ready: it gets the current counts. */
  connected(userId: string): void {
    this.#tracker.resend(userId);
  }

  #run(work: Promise<void>, what: string): void {
    work.catch((error: unknown) => this.#logger.error({ err: error }, `${what} failed`));
  }
}
