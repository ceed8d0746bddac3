/**
 * The simulated application's commands, as they travel in log entries, and a
 * stable text for any entry (what the invariant checks compare).
 *
 * Commands are JSON in the entry's bytes. Entries are shared by reference
 * between the simulated nodes (nothing is serialized on the simulated wire),
 * so decoding and describing are cached per object.
 */
import { describeConfChange, type Entry } from "../index.ts";

/**
 * What every session command carries (the fields of the core's
 * ClientSessionTable): the client, its sequence number, the lowest sequence
 * number whose answer it still waits for, and the client's clock when it
 * issued the command (the table expires sessions by entry time, never by a
 * replica's clock).
 */
interface SessionFields {
  readonly client: string;
  readonly sequence: number;
  readonly firstUnacknowledged: number;
  readonly timeMs: number;
}

/** A write or a read through the log, from a client session. */
export type SessionCommand = SessionFields &
  (
    | { readonly kind: "put"; readonly key: string; readonly value: string }
    | { readonly kind: "append"; readonly key: string; readonly value: string }
    | { readonly kind: "get"; readonly key: string }
    | { readonly kind: "read"; readonly key: string }
  );

/** Opens the client's session; a client registers before its first command. */
export interface RegisterCommand {
  readonly kind: "register";
  readonly client: string;
  readonly timeMs: number;
}

/** What a client asks a server to do. */
export type RequestCommand = SessionCommand | RegisterCommand;

/** The liveness probe's entry: it must commit and reach every member once faults stop. */
export interface MarkerCommand {
  readonly kind: "marker";
  readonly marker: number;
}

export type Command = RequestCommand | MarkerCommand;

export type CommandResult =
  | { readonly kind: "put" }
  | { readonly kind: "append" }
  | { readonly kind: "get"; readonly value: string | null }
  | { readonly kind: "read"; readonly entries: readonly string[] }
  | { readonly kind: "register" };

/** The sequence number a request is known by (a registration has none of its own). */
export function requestSequence(command: RequestCommand): number {
  return command.kind === "register" ? 0 : command.sequence;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: Command): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

const decodedCommands = new WeakMap<Uint8Array, Command | null>();

/** The command in an entry's bytes; null for the leader's empty entry. */
export function decodeCommand(data: Uint8Array): Command | null {
  const cached = decodedCommands.get(data);
  if (cached !== undefined) return cached;
  // Only the simulator writes these bytes, so they are well-formed JSON.
  const command = data.byteLength === 0 ? null : (JSON.parse(decoder.decode(data)) as Command);
  decodedCommands.set(data, command);
  return command;
}

const entryTexts = new WeakMap<Entry, string>();

/** A text that is equal for two entries exactly when their payloads are equal. */
export function entryContent(entry: Entry): string {
  const cached = entryTexts.get(entry);
  if (cached !== undefined) return cached;
  const text =
    entry.type === "normal"
      ? `normal ${decoder.decode(entry.data)}`
      : `confChange ${describeConfChange(entry.change)} ${decoder.decode(entry.change.context)}`;
  entryTexts.set(entry, text);
  return text;
}
