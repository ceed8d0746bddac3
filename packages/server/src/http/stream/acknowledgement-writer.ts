// Writes devices' stream acknowledgements to storage. Under load every frame
// is acknowledged, so writes are batched: every interval, the newest
// acknowledgement of every device goes into one transaction (one fsync for
// all), one batch at a time. A crash loses at most one interval of them; those
// events are sent again, and clients recognise them by position. When a
// socket closes its device's acknowledgement is written at once, and a new
// socket of the device waits for that write, so a reconnect starts from it.

import { acknowledgementBatchMax } from "../../limits.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Storage } from "../../storage/storage.ts";
import type { StreamConnection } from "./stream-connection.ts";

export class AcknowledgementWriter {
  readonly #storage: Storage;
  readonly #logger: Logger;
  readonly #single = new Map<string, Promise<void>>();
  #batch: Promise<void> | null = null;

  constructor(storage: Storage, logger: Logger) {
    this.#storage = storage;
    this.#logger = logger;
  }

  /** A batch is being written; the caller tries again next interval. */
  get busy(): boolean {
    return this.#batch !== null;
  }

  /** Hands the newest acknowledgement of every device with a new one to the writer. */
  writeNewest(devices: ReadonlyMap<string, ReadonlySet<StreamConnection>>): void {
    if (this.busy) return;
    const pending: Array<{ deviceId: string; position: number }> = [];
    for (const [deviceId, connections] of devices) {
      let newest = 0;
      let written = 0;
      for (const connection of connections) {
        newest = Math.max(newest, connection.acknowledged);
        written = Math.max(written, connection.acknowledgedWritten);
      }
      if (newest <= written) continue;
      for (const connection of connections) connection.acknowledgedWritten = newest;
      pending.push({ deviceId, position: newest });
    }
    this.writeBatch(pending);
  }

  writeBatch(pending: ReadonlyArray<{ deviceId: string; position: number }>): void {
    if (this.#batch !== null || pending.length === 0) return;
    this.#batch = (async () => {
      for (let start = 0; start < pending.length; start += acknowledgementBatchMax) {
        await this.#storage.inboxes.acknowledgeStreams(
          pending.slice(start, start + acknowledgementBatchMax),
        );
      }
    })()
      .catch((error: unknown) =>
        this.#logger.warn({ err: error }, "writing stream acknowledgements failed"),
      )
      .finally(() => {
        this.#batch = null;
      });
  }

  /** One device's acknowledgement, written now; writes of one device run in order. */
  writeOne(deviceId: string, position: number): void {
    const previous = this.#single.get(deviceId) ?? Promise.resolve();
    const write = previous
      .then(() => this.#storage.inboxes.acknowledgeStream(deviceId, position))
      .then(
        () => undefined,
        (error: unknown) =>
          this.#logger.warn({ err: error }, "writing a stream acknowledgement failed"),
      );
    this.#single.set(deviceId, write);
    void write.then(() => {
      if (this.#single.get(deviceId) === write) this.#single.delete(deviceId);
    });
  }

  /** Resolves when the device's pending single write (if any) is done. */
  async settled(deviceId: string): Promise<void> {
    await this.#single.get(deviceId);
  }

  /** Resolves when nothing is being written. */
  async idle(): Promise<void> {
    await this.#batch;
    await Promise.allSettled([...this.#single.values()]);
  }
}
