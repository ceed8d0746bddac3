// The device's MLS member of each encrypted room, in memory and sealed in
// the store. Every operation on a room's member runs under that room's lock,
// one at a time, because each takes the member an earlier one returned.
// Members changed by the stream are sealed when the stream's cursor is
// saved, in the same store write (`takeChanges`); members changed by the
// device's own acts (creating, committing, joining, sending) are saved at
// once, before anything is sent that depends on them: a restarted device
// must never reuse a message key it has already used.

import {
  type MlsMember,
  mlsFailureToParleyError,
  openMemberState,
  sealMemberState,
} from "@parley/mls";
import { ParleyError, type RoomId } from "@parley/protocol";
import { type ClientStore, writeChanges } from "../store/client-store.ts";
import type { MlsContext } from "./mls-context.ts";

export class RoomGroups {
  readonly #context: MlsContext;
  /** A room's member, or null once known to have none (not stored). */
  readonly #members = new Map<string, MlsMember | null>();
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Rooms whose member changed since it was last stored. */
  readonly #dirty = new Set<string>();

  constructor(context: MlsContext) {
    this.#context = context;
  }

  /** The store the members are sealed into. */
  get store(): ClientStore {
    return this.#context.records.store;
  }

  /** Runs `operation` after every earlier operation on the room has finished. */
  withRoom<Result>(roomId: string, operation: () => Promise<Result>): Promise<Result> {
    const previous = this.#locks.get(roomId) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const settled = result.catch(() => undefined);
    this.#locks.set(roomId, settled);
    void settled.then(() => {
      if (this.#locks.get(roomId) === settled) this.#locks.delete(roomId);
    });
    return result;
  }

  /** The room's member, opened from the store on first use; undefined if this device has none. */
  async member(roomId: RoomId): Promise<MlsMember | undefined> {
    const known = this.#members.get(roomId);
    if (known !== undefined) return known ?? undefined;
    const sealed = await this.#context.records.room(roomId);
    if (sealed === undefined) {
      this.#members.set(roomId, null);
      return undefined;
    }
    const opened = await openMemberState(
      await this.#context.crypto(),
      sealed,
      await this.#context.stateKey(),
      { roomId },
    );
    if (opened.kind === "failed") throw mlsFailureToParleyError(opened);
    this.#members.set(roomId, opened.member);
    return opened.member;
  }

  /** Whether this device holds a member for the room (without opening it). */
  async has(roomId: RoomId): Promise<boolean> {
    return (await this.member(roomId)) !== undefined;
  }

  /** Takes the new member in memory; it is stored with the next cursor save. */
  update(roomId: RoomId, member: MlsMember): void {
    this.#members.set(roomId, member);
    this.#dirty.add(roomId);
  }

  /** Takes the new member and stores it now. */
  async save(roomId: RoomId, member: MlsMember): Promise<void> {
    this.update(roomId, member);
    await writeChanges(this.#context.records.store, await this.takeChanges());
  }

  /**
   * The store changes for every member changed since the last call: sealed
   * blobs to write with the cursor. The rooms count as stored from now; a
   * failed write fails the caller's save, which the stream retries.
   */
  async takeChanges(): Promise<Map<string, string | undefined>> {
    const changes = new Map<string, string | undefined>();
    if (this.#dirty.size === 0) return changes;
    const key = await this.#context.stateKey();
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    for (const roomId of rooms) {
      const member = this.#members.get(roomId);
      if (member === undefined) continue;
      if (member === null) throw new ParleyError("internal", "a dirty room has no member");
      const [storeKey, value] = this.#context.records.roomChange(
        roomId,
        await sealMemberState(member, key),
      );
      changes.set(storeKey, value);
    }
    return changes;
  }
}
