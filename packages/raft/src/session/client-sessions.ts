/**
 * Client sessions for exactly-once application of commands (Raft thesis
 * §6.3). A client retries a proposal it got no answer for; Raft may then
 * commit the same command twice. The application's state machine consults
 * this table when it applies each command and executes it only once,
 * answering retries from the cached response.
 *
 * Pure and deterministic: every replica must reach the same decisions, so
 * everything here depends only on what is in the log. `index` is the log
 * index of the entry being applied; `timeMs` is a time carried inside the
 * entry (stamped by the proposer), never a local clock. The table is part
 * of the state machine: include `toSnapshot()` in snapshots and rebuild with
 * `fromSnapshot()`.
 *
 * Protocol, per client:
 *  - `register` opens a session (the client picks its id; Parley clients
 *    already choose ids for what they send). A command from an unknown or
 *    expired session is refused with "sessionExpired": the client must
 *    register again and learn that earlier commands may or may not have been
 *    applied, rather than have them silently applied twice.
 *  - Each command carries a sequence number and `firstUnacknowledged`, the
 *    lowest sequence number whose response the client still waits for; the
 *    table drops the responses below it. Commands may be pipelined and may
 *    commit out of order; the table knows exactly which sequence numbers at
 *    or above `firstUnacknowledged` were applied.
 */
import { assert, fail } from "../assert.ts";
import type { LogIndex } from "../types.ts";

export interface ClientSessionLimits {
  /** Sessions kept; registering beyond it expires the least recently active one. */
  readonly sessionsMax: number;
  /** A session with no command for more than this many log indexes expires. */
  readonly idleIndexesMax: number;
  /** A session with no command for more than this long (by entry time) expires. */
  readonly idleMs: number;
  /** Unacknowledged responses kept per session; more pending commands are refused. */
  readonly pendingResponsesMax: number;
}

export interface ClientCommand {
  readonly clientId: string;
  readonly sequence: number;
  /** The lowest sequence number whose response the client has not yet received. */
  readonly firstUnacknowledged: number;
}

/**
 * - "apply": a new command: execute it, then call `complete` with its response.
 * - "duplicate": already applied: answer with the cached response, do not execute.
 * - "sessionExpired": no such session (never registered, or expired).
 * - "acknowledged": the client already acknowledged this sequence number; a stale retry.
 * - "tooManyPending": the client has too many unacknowledged commands.
 */
export type SessionDecision<R> =
  | { readonly kind: "apply" }
  | { readonly kind: "duplicate"; readonly response: R }
  | { readonly kind: "sessionExpired" }
  | { readonly kind: "acknowledged" }
  | { readonly kind: "tooManyPending" };

interface Session<R> {
  lastActiveIndex: LogIndex;
  lastActiveTimeMs: number;
  /** Every sequence number below this was acknowledged by the client. */
  acknowledgedBelow: number;
  /** Responses of applied commands at or above acknowledgedBelow. */
  readonly responses: Map<number, R>;
}

export interface ClientSessionSnapshot<R> {
  readonly sessions: readonly {
    readonly clientId: string;
    readonly lastActiveIndex: LogIndex;
    readonly lastActiveTimeMs: number;
    readonly acknowledgedBelow: number;
    readonly responses: readonly (readonly [number, R])[];
  }[];
}

export class ClientSessionTable<R> {
  private readonly sessions = new Map<string, Session<R>>();

  constructor(readonly limits: ClientSessionLimits) {
    assert(limits.sessionsMax > 0, "sessionsMax must be positive");
    assert(limits.pendingResponsesMax > 0, "pendingResponsesMax must be positive");
  }

  get size(): number {
    return this.sessions.size;
  }

  has(clientId: string): boolean {
    return this.sessions.has(clientId);
  }

  /**
   * Opens a session (applied from a register command at `index`). Registering
   * an existing session only refreshes it. Returns the sessions expired to
   * make room.
   */
  register(clientId: string, index: LogIndex, timeMs: number): string[] {
    const existing = this.sessions.get(clientId);
    if (existing !== undefined) {
      this.touch(existing, index, timeMs);
      return [];
    }
    const evicted: string[] = [];
    while (this.sessions.size >= this.limits.sessionsMax) {
      const victim = this.leastRecentlyActive();
      assert(victim !== undefined, "a full table has a least recently active session");
      this.sessions.delete(victim);
      evicted.push(victim);
    }
    this.sessions.set(clientId, {
      lastActiveIndex: index,
      lastActiveTimeMs: timeMs,
      acknowledgedBelow: 0,
      responses: new Map(),
    });
    return evicted;
  }

  /** Decides what to do with a command being applied at `index`. */
  begin(command: ClientCommand, index: LogIndex, timeMs: number): SessionDecision<R> {
    const session = this.sessions.get(command.clientId);
    if (session === undefined) return { kind: "sessionExpired" };
    this.touch(session, index, timeMs);
    if (command.firstUnacknowledged > session.acknowledgedBelow) {
      session.acknowledgedBelow = command.firstUnacknowledged;
      for (const sequence of session.responses.keys()) {
        if (sequence < session.acknowledgedBelow) session.responses.delete(sequence);
      }
    }
    const cached = session.responses.get(command.sequence);
    if (cached !== undefined) return { kind: "duplicate", response: cached };
    if (command.sequence < session.acknowledgedBelow) return { kind: "acknowledged" };
    if (session.responses.size >= this.limits.pendingResponsesMax)
      return { kind: "tooManyPending" };
    return { kind: "apply" };
  }

  /** Records the response of a command that `begin` said to apply. */
  complete(clientId: string, sequence: number, response: R): void {
    const session = this.sessions.get(clientId);
    if (session === undefined) fail(`complete() for unknown session ${clientId}`);
    if (session.responses.has(sequence)) fail(`command ${clientId}/${sequence} completed twice`);
    session.responses.set(sequence, response);
  }

  /**
   * `begin`, then `execute` if the command is new, then `complete`. Returns
   * the response to send, or the reason the command was refused.
   */
  apply(
    command: ClientCommand,
    index: LogIndex,
    timeMs: number,
    execute: () => R,
  ):
    | { readonly status: "applied" | "duplicate"; readonly response: R }
    | {
        readonly status: "refused";
        readonly reason: Exclude<SessionDecision<R>["kind"], "apply" | "duplicate">;
      } {
    const decision = this.begin(command, index, timeMs);
    switch (decision.kind) {
      case "apply": {
        const response = execute();
        this.complete(command.clientId, command.sequence, response);
        return { status: "applied", response };
      }
      case "duplicate":
        return { status: "duplicate", response: decision.response };
      default:
        return { status: "refused", reason: decision.kind };
    }
  }

  /**
   * Expires sessions idle for longer than the limits, as of the entry at
   * `index` with time `timeMs`. Call it at the same points on every replica
   * (for example on every applied entry). Returns the expired client ids.
   */
  expire(index: LogIndex, timeMs: number): string[] {
    const expired: string[] = [];
    for (const [clientId, session] of this.sessions) {
      const idleIndexes = index - session.lastActiveIndex;
      const idleMs = timeMs - session.lastActiveTimeMs;
      if (idleIndexes > this.limits.idleIndexesMax || idleMs > this.limits.idleMs) {
        expired.push(clientId);
      }
    }
    for (const clientId of expired) this.sessions.delete(clientId);
    return expired.sort();
  }

  toSnapshot(): ClientSessionSnapshot<R> {
    const ids = [...this.sessions.keys()].sort();
    return {
      sessions: ids.map((clientId) => {
        const session = this.sessions.get(clientId);
        assert(session !== undefined, "listed session exists");
        return {
          clientId,
          lastActiveIndex: session.lastActiveIndex,
          lastActiveTimeMs: session.lastActiveTimeMs,
          acknowledgedBelow: session.acknowledgedBelow,
          responses: [...session.responses].sort((a, b) => a[0] - b[0]),
        };
      }),
    };
  }

  static fromSnapshot<R>(
    snapshot: ClientSessionSnapshot<R>,
    limits: ClientSessionLimits,
  ): ClientSessionTable<R> {
    const table = new ClientSessionTable<R>(limits);
    for (const session of snapshot.sessions) {
      table.sessions.set(session.clientId, {
        lastActiveIndex: session.lastActiveIndex,
        lastActiveTimeMs: session.lastActiveTimeMs,
        acknowledgedBelow: session.acknowledgedBelow,
        responses: new Map(session.responses),
      });
    }
    return table;
  }

  private touch(session: Session<R>, index: LogIndex, timeMs: number): void {
    session.lastActiveIndex = Math.max(session.lastActiveIndex, index);
    session.lastActiveTimeMs = Math.max(session.lastActiveTimeMs, timeMs);
  }

  /** Ties broken by client id, so every replica evicts the same session. */
  private leastRecentlyActive(): string | undefined {
    let victim: string | undefined;
    let victimIndex = Number.POSITIVE_INFINITY;
    for (const [clientId, session] of this.sessions) {
      const older = session.lastActiveIndex < victimIndex;
      const tie =
        session.lastActiveIndex === victimIndex && victim !== undefined && clientId < victim;
      if (older || tie) {
        victim = clientId;
        victimIndex = session.lastActiveIndex;
      }
    }
    return victim;
  }
}
