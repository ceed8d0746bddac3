/**
 * The replicated application of the simulator: registers (put/get) and
 * append-only logs (append/read), with client sessions that make retried
 * commands safe (Raft thesis §6.3): each client numbers its commands, one
 * outstanding at a time, and a command whose sequence number the client's
 * session has already seen is not applied again; the session remembers the
 * last result so the retry can be answered.
 *
 * It also keeps a running digest of every entry applied, chained by index, so
 * two nodes (or a node and a snapshot) that applied different histories up
 * to the same index are told apart cheaply.
 */
import {
  type ConfState,
  EMPTY_CONF_STATE,
  type Entry,
  type LogIndex,
  type Snapshot,
  type Term,
} from "../index.ts";
import { type CommandResult, decodeCommand, entryContent, type SessionCommand } from "./command.ts";

interface Session {
  readonly sequence: number;
  readonly result: CommandResult;
}

/** What applying one entry meant for a client waiting on it. */
export interface AppliedCommand {
  readonly client: string;
  readonly sequence: number;
  /** The result to answer with (the remembered one for a retry). */
  readonly result: CommandResult;
}

interface SnapshotBody {
  readonly registers: [string, string][];
  readonly logs: [string, string[]][];
  readonly sessions: [string, Session][];
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
  private readonly sessions: Map<string, Session>;

  private constructor(metadata: Snapshot["metadata"], body: SnapshotBody) {
    this.appliedIndex = metadata.index;
    this.appliedTerm = metadata.term;
    this.confState = metadata.confState;
    this.digest = body.digest;
    this.registers = new Map(body.registers);
    this.logs = new Map(body.logs.map(([key, entries]) => [key, [...entries]]));
    this.sessions = new Map(body.sessions);
  }

  static empty(): KeyValueStore {
    return new KeyValueStore(
      { index: 0, term: 0, confState: EMPTY_CONF_STATE },
      { registers: [], logs: [], sessions: [], digest: 0 },
    );
  }

  /** The state a snapshot holds (the bootstrap snapshot, or one from disk or the leader). */
  static fromSnapshot(snapshot: Snapshot): KeyValueStore {
    if (snapshot.data.byteLength === 0) {
      return new KeyValueStore(snapshot.metadata, {
        registers: [],
        logs: [],
        sessions: [],
        digest: 0,
      });
    }
    const body = JSON.parse(decoder.decode(snapshot.data)) as SnapshotBody;
    return new KeyValueStore(snapshot.metadata, body);
  }

  snapshotData(): Uint8Array {
    const body: SnapshotBody = {
      registers: [...this.registers],
      logs: [...this.logs],
      sessions: [...this.sessions],
      digest: this.digest,
    };
    return encoder.encode(JSON.stringify(body));
  }

  /** A snapshot of the state as of `appliedIndex`. */
  snapshot(): Snapshot {
    return {
      metadata: { index: this.appliedIndex, term: this.appliedTerm, confState: this.confState },
      data: this.snapshotData(),
    };
  }

  /**
   * Applies the next committed entry. `deduplicate` false is the injected
   * bug "noClientDedup". Returns what a client waiting on the entry's
   * command should be told, or null (no command, or a stale retry).
   */
  apply(entry: Entry, deduplicate: boolean): AppliedCommand | null {
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    this.digest = chainDigest(this.digest, entry.index, entryContent(entry));
    if (entry.type !== "normal") return null;
    const command = decodeCommand(entry.data);
    if (command === null || command.kind === "marker") return null;
    const session = this.sessions.get(command.client);
    if (deduplicate && session !== undefined && command.sequence <= session.sequence) {
      // A retry: answer with the remembered result if it is the latest command.
      if (command.sequence !== session.sequence) return null;
      return { client: command.client, sequence: command.sequence, result: session.result };
    }
    const result = this.execute(command);
    this.sessions.set(command.client, { sequence: command.sequence, result });
    return { client: command.client, sequence: command.sequence, result };
  }

  /** The remembered result of (client, sequence), if that is the client's latest command. */
  rememberedResult(client: string, sequence: number): CommandResult | undefined {
    const session = this.sessions.get(client);
    return session !== undefined && session.sequence === sequence ? session.result : undefined;
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
