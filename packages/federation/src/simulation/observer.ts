import { encodeHex, type RoomId, type ServerName, sha256 } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import { encodeRoomSnapshot } from "@parley/room";
import type { Frame } from "../frames/frame.ts";
import type { FederationEffects } from "../host/effects.ts";
import { messageKey, type StampedMessage } from "../message-lane/stamped-message.ts";
import type { ServerObserver, SimulatedServer } from "./simulated-server.ts";

/** A control entry as applied (the same at every server), kept for the encrypted-room devices. */
export interface AppliedEntry {
  readonly index: number;
  readonly entry: ControlEntry;
  readonly accepted: boolean;
}

/** A leaf's commit a sponsor holds until its homeserver checked it (the simulation answers). */
export interface CommitCheckRequest {
  readonly server: SimulatedServer;
  readonly event: Extract<FederationEffects["events"][number], { type: "commit-check-needed" }>;
}

export type Phase = "setup" | "chaos" | "heal" | "steady";

/** Bounds the violations kept, so a badly broken run still prints a readable report. */
const violationsKept = 20;

/**
 * Watches every server's effects and received frames, and checks the
 * invariants that must hold at every moment:
 * - no two servers ever hold different room states at the same control
 *   index (snapshot bytes compared through their hash);
 * - no server stores (and reports) a message twice;
 * - no message is ever re-checked as refused (sponsors here are honest, so
 *   a refusal means two servers disagree on the state at an index).
 * It also keeps what the end-of-run checks need: the messages senders were
 * told are accepted, and in the steady phase, how many copies of each
 * message reached each server.
 */
export class FederationObserver implements ServerObserver {
  phase: Phase = "setup";
  /** Copies are counted only of frames sent from this time on (old replays are chaos, not steady state). */
  steadySinceMs = Number.POSITIVE_INFINITY;
  readonly violations: string[] = [];
  readonly #stateHashes = new Map<number, string>();
  readonly #storedByServer = new Map<ServerName, Set<string>>();
  /** Messages whose sender was told "accepted": key → message (found when stored at the origin). */
  readonly acceptedKeys = new Set<string>();
  readonly steadyKeys = new Set<string>();
  /** Submissions made in the steady phase: only their acceptances are steady messages (a
   * chaos-phase submission may still be repeated, and answered, after the faults end). */
  readonly steadyRequests = new Set<number>();
  readonly copies = new Map<ServerName, Map<string, number>>();
  readonly messagesByKey = new Map<string, StampedMessage>();
  /** Encrypted-room seeds only: every applied entry by index, and the commits awaiting a check. */
  readonly applied = new Map<number, AppliedEntry>();
  readonly commitChecks: CommitCheckRequest[] = [];
  keepApplied = false;
  statesChecked = 0;
  controlEvents = 0;
  framesReceived = 0;

  constructor(readonly room: () => RoomId | null) {}

  violate(message: string): void {
    if (this.violations.length < violationsKept) this.violations.push(message);
  }

  effects(server: SimulatedServer, effects: FederationEffects): void {
    let controlChanged = false;
    for (const event of effects.events) {
      switch (event.type) {
        case "control-applied":
          if (this.keepApplied) {
            this.applied.set(event.index, {
              index: event.index,
              entry: event.record.entry,
              accepted: event.outcome.verdict === "accepted",
            });
          }
          controlChanged = true;
          this.controlEvents += 1;
          break;
        case "commit-check-needed":
          this.commitChecks.push({ server, event });
          break;
        case "state-restored":
          controlChanged = true;
          this.controlEvents += 1;
          break;
        case "message-stored":
          this.#stored(server.name, event.stored.message, event.stored.verdict);
          break;
        case "submission-result":
          if (event.outcome.kind === "accepted") {
            const key = messageKey(event.outcome);
            this.acceptedKeys.add(key);
            if (this.steadyRequests.has(event.requestId)) this.steadyKeys.add(key);
          }
          break;
        case "peer-error":
          this.violate(`${server.name}: peer error from ${event.peer}: ${event.error.message}`);
          break;
      }
    }
    if (controlChanged) this.checkState(server);
  }

  received(server: SimulatedServer, _from: ServerName, frame: Frame, sentAtMs: number): void {
    this.framesReceived += 1;
    if (this.phase !== "steady" || sentAtMs < this.steadySinceMs) return;
    if (frame.type === "routed") this.#copy(server.name, messageKey(frame.message));
    if (frame.type === "backfill-response") {
      for (const message of frame.messages) this.#copy(server.name, messageKey(message));
    }
  }

  /** Compares the server's current state with every other server's state at the same index. */
  checkState(server: SimulatedServer): void {
    const room = this.room();
    const state = room === null ? undefined : server.host?.session(room)?.replica.state;
    if (state === undefined) return;
    const hash = encodeHex(sha256(encodeRoomSnapshot(state)));
    const known = this.#stateHashes.get(state.appliedIndex);
    this.statesChecked += 1;
    if (known === undefined) this.#stateHashes.set(state.appliedIndex, hash);
    else if (known !== hash) {
      this.violate(
        `${server.name} holds a different room state at control index ${state.appliedIndex}`,
      );
    }
  }

  #stored(server: ServerName, message: StampedMessage, verdict: string): void {
    const key = messageKey(message);
    this.messagesByKey.set(key, message);
    let stored = this.#storedByServer.get(server);
    if (stored === undefined) {
      stored = new Set();
      this.#storedByServer.set(server, stored);
    }
    if (stored.has(key)) this.violate(`${server} stored ${key} twice`);
    stored.add(key);
    if (verdict !== "allowed") this.violate(`${server} re-checked ${key} as ${verdict}`);
  }

  #copy(server: ServerName, key: string): void {
    let counts = this.copies.get(server);
    if (counts === undefined) {
      counts = new Map();
      this.copies.set(server, counts);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
