/**
 * The replicated application of the simulator: registers (put/get) and
 * append-only logs (append/read). Retried commands are applied once through
 * the core's ClientSessionTable (Raft thesis §6.3), so the simulator also
 * tests that table under retries, duplicates, late replays, crashes and
 * snapshots.
 *
 * It also keeps a running digest of every entry applied, chained by index, so
 * two nodes (or a node and a snapshot) that applied different histories up
 * to the same index are told apart cheaply.
 */
import {
  type ClientSessionLimits,
  type ClientSessionSnapshot,
  ClientSessionTable,
  type ConfState,
  EMPTY_CONF_STATE,
  type Entry,
  type LogIndex,
  type Snapshot,
  type Term,
} from "../index.ts";
import { type CommandResult, decodeCommand, entryContent, type SessionCommand } from "./command.ts";
import { SafetyViolation } from "./safety-monitor.ts";

/** What applying one entry meant for a client waiting on it. */
export interface AppliedCommand {
  readonly client: string;
  /** 0 for a registration. */
  readonly sequence: number;
  /** The result to answer with (the remembered one for a retry). */
  readonly result: CommandResult;
}

/**
 * Sessions never expire in a run (a client that gives up just moves on to its
 * next sequence number), so an expired session can only be a bug.
 */
const sessionLimits: ClientSessionLimits = {
  sessionsMax: 64,
  idleIndexesMax: Number.MAX_SAFE_INTEGER,
  idleMs: Number.MAX_SAFE_INTEGER,
  pendingResponsesMax: 4,
};

interface SnapshotBody {
  readonly registers: [string, string][];
  readonly logs: [string, string[]][];
  readonly sessions: ClientSessionSnapshot<CommandResult>;
  readonly digest: number;
}

const emptyBody: SnapshotBody = { registers: [], logs: [], sessions: { sessions: [] }, digest: 0 };

/**
 * The state as of one applied index, captured without encoding it: a
 * durable state machine's checkpoint, which is read back only if the node
 * restarts (a checkpoint may be taken after every Ready, so encoding each
 * one was a large share of a run). Logs only grow, so a log is captured as
 * the array and its length at the time.
 */
export interface KeyValueCheckpoint {
  readonly metadata: Snapshot["metadata"];
  readonly registers: readonly [string, string][];
  readonly logs: readonly (readonly [string, readonly string[], number])[];
  readonly sessions: ClientSessionSnapshot<CommandResult>;
  readonly digest: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KeyValueStore {
  appliedIndex: LogIndex;
  appliedTerm: Term;
  /** The configuration as of `appliedIndex`, for snapshots. */
  confState: ConfState;
  digest: number;
  private readonly registers: Map<string, string>;
  private readonly logs: Map<string, string[]>;
  private readonly sessions: ClientSessionTable<CommandResult>;
  /** `snapshotData()` as of `appliedIndex`, once asked for: only `apply` changes the body. */
  private encoded: { readonly index: LogIndex; readonly data: Uint8Array } | null = null;

  private constructor(metadata: Snapshot["metadata"], body: SnapshotBody) {
    this.appliedIndex = metadata.index;
    this.appliedTerm = metadata.term;
    this.confState = metadata.confState;
    this.digest = body.digest;
    this.registers = new Map(body.registers);
    this.logs = new Map(body.logs.map(([key, entries]) => [key, [...entries]]));
    this.sessions = ClientSessionTable.fromSnapshot(body.sessions, sessionLimits);
  }

  static empty(): KeyValueStore {
    return new KeyValueStore({ index: 0, term: 0, confState: EMPTY_CONF_STATE }, emptyBody);
  }

  /** The state a snapshot holds (the bootstrap snapshot, or one from disk or the leader). */
  static fromSnapshot(snapshot: Snapshot): KeyValueStore {
    const body =
      snapshot.data.byteLength === 0
        ? emptyBody
        : (JSON.parse(decoder.decode(snapshot.data)) as SnapshotBody);
    return new KeyValueStore(snapshot.metadata, body);
  }

  /** The state a checkpoint captured. */
  static fromCheckpoint(checkpoint: KeyValueCheckpoint): KeyValueStore {
    return new KeyValueStore(checkpoint.metadata, {
      registers: [...checkpoint.registers],
      logs: checkpoint.logs.map(([key, entries, length]) => [key, entries.slice(0, length)]),
      sessions: checkpoint.sessions,
      digest: checkpoint.digest,
    });
  }

  snapshotData(): Uint8Array {
    if (this.encoded?.index === this.appliedIndex) return this.encoded.data;
    const body: SnapshotBody = {
      registers: [...this.registers],
      logs: [...this.logs],
      sessions: this.sessions.toSnapshot(),
      digest: this.digest,
    };
    const data = encoder.encode(JSON.stringify(body));
    this.encoded = { index: this.appliedIndex, data };
    return data;
  }

  /** A snapshot of the state as of `appliedIndex`. */
  snapshot(): Snapshot {
    return {
      metadata: { index: this.appliedIndex, term: this.appliedTerm, confState: this.confState },
      data: this.snapshotData(),
    };
  }

  /** The state as of `appliedIndex`, for a durable state machine's checkpoint. */
  checkpoint(): KeyValueCheckpoint {
    return {
      metadata: { index: this.appliedIndex, term: this.appliedTerm, confState: this.confState },
      registers: [...this.registers],
      logs: [...this.logs].map(([key, entries]) => [key, entries, entries.length] as const),
      sessions: this.sessions.toSnapshot(),
      digest: this.digest,
    };
  }

  /**
   * Applies the next committed entry. `deduplicate` false is the injected
   * bug "noClientDedup" (the session table is bypassed). Returns what a
   * client waiting on the entry's command should be told, or null (no
   * command, or a retry of a command the client already moved past).
   */
  apply(entry: Entry, deduplicate: boolean): AppliedCommand | null {
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    this.digest = chainDigest(this.digest, entry.index, entryContent(entry));
    if (entry.type !== "normal") return null;
    const command = decodeCommand(entry.data);
    if (command === null || command.kind === "marker") return null;
    if (command.kind === "register") {
      this.sessions.register(command.client, entry.index, command.timeMs);
      return { client: command.client, sequence: 0, result: { kind: "register" } };
    }
    if (!deduplicate) {
      const result = this.execute(command);
      return { client: command.client, sequence: command.sequence, result };
    }
    const outcome = this.sessions.apply(
      {
        clientId: command.client,
        sequence: command.sequence,
        firstUnacknowledged: command.firstUnacknowledged,
      },
      entry.index,
      command.timeMs,
      () => this.execute(command),
    );
    if (outcome.status !== "refused") {
      return { client: command.client, sequence: command.sequence, result: outcome.response };
    }
    if (outcome.reason === "acknowledged") return null;
    throw new SafetyViolation(
      "state machine safety",
      `the session table refused ${command.client}/${command.sequence} at ${entry.index}: ${outcome.reason}`,
    );
  }

  readRegister(key: string): string | null {
    return this.registers.get(key) ?? null;
  }

  readLog(key: string): readonly string[] {
    return [...(this.logs.get(key) ?? [])];
  }

  private execute(command: SessionCommand): CommandResult {
    switch (command.kind) {
      case "put":
        this.registers.set(command.key, command.value);
        return { kind: "put" };
      case "append": {
        const log = this.logs.get(command.key);
        if (log === undefined) this.logs.set(command.key, [command.value]);
        else log.push(command.value);
        return { kind: "append" };
      }
      case "get":
        return { kind: "get", value: this.readRegister(command.key) };
      case "read":
        return { kind: "read", entries: this.readLog(command.key) };
    }
  }
}

/** FNV-1a over the previous digest, the index and the entry's content. */
function chainDigest(previous: number, index: LogIndex, content: string): number {
  let hash = (0x811c9dc5 ^ previous) >>> 0;
  const text = `${index}:${content}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
