import type { UserId } from "@parley/protocol";
import type { ControlEntry } from "./actions.ts";
import { decide } from "./decide.ts";
import type { Decision, RoomEffect, RoomRejectionCode, StateChange } from "./decision.ts";
import type { MemberRecord, RoomState } from "./state.ts";

export type ApplyOutcome =
  | {
      readonly verdict: "accepted";
      readonly index: number;
      readonly effects: readonly RoomEffect[];
    }
  | {
      readonly verdict: "rejected";
      readonly index: number;
      readonly code: RoomRejectionCode;
      readonly reason: string;
    };

/**
 * The replicated room state machine. Every sponsor feeds it the committed
 * control entries in log order; identical logs give identical states, byte for
 * byte (see snapshot.ts). A rejected entry still consumes its index.
 */
export class RoomStateMachine {
  #state: RoomState | undefined;
  #appliedIndex: number;

  constructor(state?: RoomState) {
    this.#state = state === undefined ? undefined : { ...state, members: new Map(state.members) };
    this.#appliedIndex = state?.appliedIndex ?? 0;
  }

  /**
   * The applied state; undefined until the create entry has applied. A live
   * view: its member map changes with the next `apply`, so copy or snapshot
   * what must outlive it.
   */
  get state(): RoomState | undefined {
    return this.#state;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** What `apply` would decide for `entry` as the next index, without changing anything. */
  check(entry: ControlEntry): Decision {
    return decide(this.#state, entry, this.#appliedIndex + 1);
  }

  apply(entry: ControlEntry, index: number): ApplyOutcome {
    if (index !== this.#appliedIndex + 1) {
      // A gap or a repeat means the caller's log handling is broken: crash, do not guess.
      throw new Error(
        `room entries apply in order: expected ${this.#appliedIndex + 1}, got ${index}`,
      );
    }
    const decision = decide(this.#state, entry, index);
    this.#appliedIndex = index;
    if (decision.verdict === "reject") {
      if (this.#state !== undefined) this.#state = { ...this.#state, appliedIndex: index };
      return { verdict: "rejected", index, code: decision.code, reason: decision.reason };
    }
    this.#state = applyChanges(this.#state, decision.changes, index);
    return { verdict: "accepted", index, effects: decision.effects };
  }
}

/**
 * Applies an accepted decision. The member map is updated in place, because
 * copying it for every join would make a large room's log cost O(members) per
 * entry; this is why `state` is documented as a live view.
 */
function applyChanges(
  before: RoomState | undefined,
  changes: readonly StateChange[],
  index: number,
): RoomState {
  let state = before;
  for (const change of changes) {
    if (change.type === "replace") {
      state = { ...change.state, members: new Map(change.state.members) };
      continue;
    }
    if (state === undefined) throw new Error("a change other than replace needs a room");
    if (change.type === "member") {
      (state.members as Map<UserId, MemberRecord>).set(change.user, change.record);
    } else if (change.type === "fields") {
      state = { ...state, ...change.fields };
    } else if (change.type === "mls") {
      state = { ...state, mls: change.mls };
    } else {
      state = { ...state, sponsors: change.sponsors };
    }
  }
  if (state === undefined) throw new Error("an accepted entry must leave a room");
  return { ...state, appliedIndex: index };
}
