import type { ServerName, UserId } from "@parley/protocol";
import {
  authorizeMessage,
  type MemberRecord,
  type RoomState,
  type StateChange,
} from "@parley/room";
import { authorizationChangesPerRoomMax } from "../limits.ts";
import type { RecheckOutcome } from "../message-lane/stamped-message.ts";

/** The room fields a message check may read, tracked over time. */
type TrackedField = "permissions" | "serverAcl" | "sponsors" | "joinRule" | "sponsorPolicy";
const trackedFields: readonly TrackedField[] = [
  "permissions",
  "serverAcl",
  "sponsors",
  "joinRule",
  "sponsorPolicy",
];

interface Version<Value> {
  readonly index: number;
  readonly value: Value;
}

/**
 * Answers "was this message allowed at control index i?" for indexes the
 * room has already passed, without keeping a copy of the state per index.
 *
 * It records, for every control entry, the values the entry changed: member
 * records and the room fields a message check reads. Each key's list starts
 * with the value it had before its first recorded change, valid from the
 * history's horizon. The state at index i is then, per key, the last version
 * at or before i, or the current value for a key never changed since the
 * horizon. `authorizeMessage` runs on a view of the state built that way, so
 * the rule itself stays in the room package.
 *
 * Bounded: past `authorizationChangesPerRoomMax` recorded changes, the oldest
 * change becomes its key's base version and the horizon moves up to its
 * index. A question about an index below the horizon is answered
 * "forgotten": the caller then accepts the message on its sponsor's word
 * (sponsors are trusted not to lie in Parley's crash-fault model; the
 * re-check is defence in depth), and counts it.
 */
export class AuthorizationHistory {
  #horizon: number;
  #current: RoomState | undefined;
  readonly #members = new Map<UserId, Version<MemberRecord | undefined>[]>();
  readonly #fields = new Map<TrackedField, Version<unknown>[]>();
  /** Every recorded change in index order, for trimming: [index, key]. */
  readonly #changes: Array<readonly [number, UserId | TrackedField, "member" | "field"]> = [];
  #trimmed = 0;
  readonly #changesMax: number;

  /**
   * A history valid from `horizon` on, whose state at `horizon` is `state`,
   * remembering at most `changesMax` changes.
   */
  constructor(
    horizon: number,
    state: RoomState | undefined,
    changesMax = authorizationChangesPerRoomMax,
  ) {
    this.#horizon = horizon;
    this.#current = state;
    this.#changesMax = changesMax;
  }

  get horizon(): number {
    return this.#horizon;
  }

  /**
   * Records the changes of the entry about to apply at `index`, given the
   * state before it. Call it before the state machine applies the entry
   * (only then are the old values still there), then `applied` with the new state.
   */
  recordChanges(index: number, changes: readonly StateChange[], before: RoomState | undefined) {
    for (const change of changes) {
      if (change.type === "member") {
        this.#pushMember(index, change.user, before?.members.get(change.user), change.record);
      } else if (change.type === "fields") {
        const fields: Partial<Record<TrackedField, unknown>> = change.fields;
        for (const field of trackedFields) {
          if (field in fields) this.#pushField(index, field, before?.[field], fields[field]);
        }
      } else if (change.type === "sponsors") {
        this.#pushField(index, "sponsors", before?.sponsors, change.sponsors);
      } else if (change.type === "replace") {
        for (const [user, record] of change.state.members) {
          this.#pushMember(index, user, before?.members.get(user), record);
        }
        for (const field of trackedFields) {
          this.#pushField(index, field, before?.[field], change.state[field]);
        }
      }
    }
    this.#trim();
  }

  /** The state after the entry applied (the machine's live view). */
  applied(state: RoomState | undefined): void {
    this.#current = state;
  }

  /** Was `origin` a sponsor and `sender` allowed to post at `index`? */
  recheck(index: number, origin: ServerName, sender: UserId): RecheckOutcome {
    const current = this.#current;
    if (current === undefined) return { verdict: "refused", code: "room_not_created" };
    if (index < this.#horizon) return { verdict: "forgotten" };
    if (index > current.appliedIndex) {
      throw new Error(`recheck at ${index} beyond the applied index ${current.appliedIndex}`);
    }
    const sponsors = this.#fieldAt(index, "sponsors", current.sponsors) as readonly ServerName[];
    if (!sponsors.includes(origin)) return { verdict: "refused", code: "not_sponsor" };
    const record = this.#memberAt(index, sender, current.members.get(sender));
    const view: RoomState = {
      ...current,
      permissions: this.#fieldAt(index, "permissions", current.permissions),
      serverAcl: this.#fieldAt(index, "serverAcl", current.serverAcl),
      joinRule: this.#fieldAt(index, "joinRule", current.joinRule),
      sponsorPolicy: this.#fieldAt(index, "sponsorPolicy", current.sponsorPolicy),
      sponsors,
      members: record === undefined ? new Map() : new Map([[sender, record]]),
      appliedIndex: index,
    } as RoomState;
    const decision = authorizeMessage(view, sender);
    return decision.allowed ? { verdict: "allowed" } : { verdict: "refused", code: decision.code };
  }

  #pushMember(
    index: number,
    user: UserId,
    before: MemberRecord | undefined,
    after: MemberRecord,
  ): void {
    let versions = this.#members.get(user);
    if (versions === undefined) {
      versions = [{ index: this.#horizon, value: before }];
      this.#members.set(user, versions);
    }
    versions.push({ index, value: after });
    this.#changes.push([index, user, "member"]);
  }

  #pushField(index: number, field: TrackedField, before: unknown, after: unknown): void {
    let versions = this.#fields.get(field);
    if (versions === undefined) {
      versions = [{ index: this.#horizon, value: before }];
      this.#fields.set(field, versions);
    }
    versions.push({ index, value: after });
    this.#changes.push([index, field, "field"]);
  }

  #memberAt(index: number, user: UserId, current: MemberRecord | undefined) {
    const versions = this.#members.get(user);
    return versions === undefined ? current : versionAt(versions, index);
  }

  #fieldAt<Value>(index: number, field: TrackedField, current: Value): Value {
    const versions = this.#fields.get(field);
    return versions === undefined ? current : (versionAt(versions, index) as Value);
  }

  /** Drops the oldest changes past the bound, moving the horizon up to them. */
  #trim(): void {
    while (this.#changes.length - this.#trimmed > this.#changesMax) {
      const oldest = this.#changes[this.#trimmed];
      if (oldest === undefined) break;
      this.#trimmed += 1;
      const [index, key, kind] = oldest;
      const versions =
        kind === "member"
          ? this.#members.get(key as UserId)
          : this.#fields.get(key as TrackedField);
      // The key's base version gives way to its oldest change, now its base.
      versions?.shift();
      this.#horizon = Math.max(this.#horizon, index);
    }
    if (this.#trimmed > this.#changesMax) {
      this.#changes.splice(0, this.#trimmed);
      this.#trimmed = 0;
    }
  }
}

/** The value of the last version at or before `index` (versions ascend; the first is the base). */
function versionAt<Value>(versions: readonly Version<Value>[], index: number): Value | undefined {
  let low = 0;
  let high = versions.length - 1;
  let found: Value | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const version = versions[middle];
    if (version === undefined) break;
    if (version.index <= index) {
      found = version.value;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
