import type { ServerName } from "@parley/protocol";
import { heldMessagesPerRoomMax } from "../limits.ts";
import { messageKey, type StampedMessage } from "./stamped-message.ts";

export interface HeldMessage {
  readonly message: StampedMessage;
  readonly path: readonly ServerName[];
  readonly via: "routed" | "backfill";
}

/**
 * Messages stamped at a control index this server has not applied yet. They
 * cannot be re-checked until that index applies (the ban that refuses them
 * may be in the entries still to come), so they wait here, unstored: the
 * high-water mark does not cover them, which is what makes dropping one safe
 * (backfill brings it again). Bounded; when full the new one is dropped.
 */
export class HeldMessages {
  readonly #held = new Map<string, HeldMessage>();

  get size(): number {
    return this.#held.size;
  }

  /** Returns false when the message was not held (already held, or no room). */
  hold(held: HeldMessage): boolean {
    const key = messageKey(held.message);
    if (this.#held.has(key) || this.#held.size >= heldMessagesPerRoomMax) return false;
    this.#held.set(key, held);
    return true;
  }

  has(message: StampedMessage): boolean {
    return this.#held.has(messageKey(message));
  }

  /** Removes and returns the messages whose control index has applied, in history order of index. */
  release(appliedIndex: number): HeldMessage[] {
    const ready: HeldMessage[] = [];
    for (const [key, held] of this.#held) {
      if (held.message.controlIndex <= appliedIndex) {
        ready.push(held);
        this.#held.delete(key);
      }
    }
    return ready.sort(
      (left, right) =>
        left.message.controlIndex - right.message.controlIndex ||
        left.message.sequence - right.message.sequence,
    );
  }

  clear(): void {
    this.#held.clear();
  }
}
