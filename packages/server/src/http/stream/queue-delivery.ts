// Pushes a device's private queue (invites, membership notices) to its
// sockets: read from storage when told the queue changed, one read at a time
// per socket, items after what the socket was already sent.

import { pageSizeMax } from "../../limits.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Storage } from "../../storage/storage.ts";
import type { StreamConnection } from "./stream-connection.ts";

export class QueueDelivery {
  readonly #storage: Storage;
  readonly #logger: Logger;

  constructor(storage: Storage, logger: Logger) {
    this.#storage = storage;
    this.#logger = logger;
  }

  /** Sends what is new in the device's queue; coalesces calls that arrive during a read. */
  pump(connection: StreamConnection): void {
    if (connection.queueReading) {
      connection.queueReadAgain = true;
      return;
    }
    connection.queueReading = true;
    void this.#readAll(connection)
      .catch((error: unknown) => this.#logger.warn({ err: error }, "queue delivery failed"))
      .finally(() => {
        connection.queueReading = false;
      });
  }

  async acknowledge(connection: StreamConnection, position: number): Promise<boolean> {
    if (position > connection.queueSent) return false;
    const outcome = await this.#storage.inboxes.acknowledgeQueue(connection.deviceId, position);
    return outcome.kind === "advanced" || outcome.kind === "unchanged";
  }

  async #readAll(connection: StreamConnection): Promise<void> {
    // Bounded: each round either sends new items (a finite queue) or stops.
    do {
      connection.queueReadAgain = false;
      const page = await this.#storage.inboxes.readQueue(connection.deviceId, pageSizeMax);
      if (page === null || connection.closed) return;
      const fresh = page.items.filter((item) => item.queuePosition > connection.queueSent);
      const last = fresh.at(-1);
      if (last === undefined && page.missed === null) continue;
      connection.sendJson({
        type: "queue",
        items: fresh.map((item) => ({
          position: item.queuePosition,
          id: item.itemId,
          kind: item.itemKind,
          body: JSON.parse(new TextDecoder().decode(item.body)) as unknown,
          createdAtMs: item.createdAtMs,
        })),
        missed:
          page.missed === null
            ? null
            : { count: page.missed.count, through: page.missed.throughPosition },
      });
      if (last !== undefined) connection.queueSent = last.queuePosition;
      if (page.more) connection.queueReadAgain = true;
    } while (connection.queueReadAgain && !connection.closed);
  }
}
