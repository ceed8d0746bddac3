// The link connections a manager has open (dialled or accepted, authenticated
// or not): counted for the connection limit and the metrics, numbered in the
// order they opened (the tie-break between two links of one pair), and
// closed together at shutdown within a grace period.

import type { LinkConnection } from "./link-connection.ts";
import type { LinkMetrics } from "./link-metrics.ts";

export class OpenConnections {
  readonly #metrics: LinkMetrics;
  readonly #connections = new Set<LinkConnection>();
  #openedCount = 0;

  constructor(metrics: LinkMetrics) {
    this.#metrics = metrics;
  }

  get size(): number {
    return this.#connections.size;
  }

  /** The number the next connection gets (1, 2, ...). */
  nextOrder(): number {
    this.#openedCount += 1;
    return this.#openedCount;
  }

  add(connection: LinkConnection): LinkConnection {
    this.#connections.add(connection);
    this.#metrics.connectionsOpen.inc({ kind: "federation" });
    this.#metrics.connectionsTotal.inc({ kind: "federation" });
    return connection;
  }

  /** A connection closed (called once per connection). */
  delete(connection: LinkConnection): void {
    this.#connections.delete(connection);
    this.#metrics.connectionsOpen.dec({ kind: "federation" });
  }

  /** Closes every connection (1001) and waits for them to be gone, at most `graceMs`. */
  async closeAll(graceMs: number): Promise<void> {
    const closed = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.isClosed && !this.#connections.has(connection)) resolve();
          const check = setInterval(() => {
            if (!this.#connections.has(connection)) {
              clearInterval(check);
              resolve();
            }
          }, 5);
          check.unref();
        }),
    );
    for (const connection of this.#connections) connection.closeWith(1001, "server shutting down");
    await Promise.race([
      Promise.all(closed),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
  }
}
