// The per-homeserver block list (DESIGN: anti-abuse): the operator names
// homeservers whose device records this server refuses. The list lives in
// storage (migration 0004) and, for the hot path, in a set in memory, so a
// check is a lookup. Changes made through this object apply at once; changes
// made by another process sharing the database arrive with the next refresh
// (limits.serverBlockRefreshIntervalMs).
//
// For federation code: call `refuseAttestedBy(server)` (or test `isBlocked`)
// wherever a device identity record attested by another homeserver is
// accepted — on a link's handshake and for every record a peer forwards —
// and before trusting a peer's link at all.

import { ParleyError } from "@parley/protocol";
import { pageSizeMax, serverBlockRefreshIntervalMs, serverBlocksMax } from "../limits.ts";
import type { ServerBlock } from "../storage/records.ts";
import type { BlockServerOutcome, Storage } from "../storage/storage.ts";

export class ServerBlockList {
  readonly #storage: Pick<Storage, "administration">;
  #blocked = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(storage: Pick<Storage, "administration">) {
    this.#storage = storage;
  }

  /** Loads the list and refreshes it periodically until `stop`. */
  async start(onRefreshError: (error: unknown) => void): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch(onRefreshError);
    }, serverBlockRefreshIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads every block from storage (at most limits.serverBlocksMax). */
  async refresh(): Promise<void> {
    const blocked = new Set<string>();
    let after: string | undefined;
    // Bounded: at most serverBlocksMax / pageSizeMax pages.
    for (let page = 0; page * pageSizeMax < serverBlocksMax; page += 1) {
      const read = await this.#storage.administration.listServerBlocks({
        limit: pageSizeMax,
        ...(after === undefined ? {} : { afterServerName: after }),
      });
      for (const block of read.items) blocked.add(block.serverName);
      after = read.items.at(-1)?.serverName;
      if (!read.more || after === undefined) break;
    }
    this.#blocked = blocked;
  }

  get size(): number {
    return this.#blocked.size;
  }

  isBlocked(serverName: string): boolean {
    return this.#blocked.has(serverName);
  }

  /** Throws `forbidden` when `serverName` (the attesting server of a record) is blocked. */
  refuseAttestedBy(serverName: string): void {
    if (this.#blocked.has(serverName)) {
      throw new ParleyError("forbidden", `the homeserver ${serverName} is blocked by this server`);
    }
  }

  async block(block: ServerBlock): Promise<BlockServerOutcome> {
    if (!this.#blocked.has(block.serverName) && this.#blocked.size >= serverBlocksMax) {
      throw new ParleyError(
        "capacity_exceeded",
        `at most ${serverBlocksMax} servers can be blocked`,
      );
    }
    const outcome = await this.#storage.administration.blockServer(block);
    this.#blocked.add(block.serverName);
    return outcome;
  }

  async unblock(serverName: string): Promise<boolean> {
    const removed = await this.#storage.administration.unblockServer(serverName);
    this.#blocked.delete(serverName);
    return removed;
  }
}
