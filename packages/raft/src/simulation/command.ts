/**
 * The simulated application's commands, as they travel in log entries, and a
 * stable text for any entry (what the invariant checks compare).
 *
 * Commands are JSON in the entry's bytes. Entries are shared by reference
 * between the simulated nodes (nothing is serialized on the simulated wire),
 * so decoding and describing are cached per object.
 */
import { describeConfChange, type Entry } from "../index.ts";

/** A write or a read through the log, from a client session (client, sequence). */
export type SessionCommand =
  | {
      readonly kind: "put";
      readonly client: string;
      readonly sequence: number;
      readonly key: string;
      readonly value: string;
    }
  | {
      readonly kind: "append";
      readonly client: string;
      readonly sequence: number;
      readonly key: string;
      readonly value: string;
    }
  | {
      readonly kind: "get";
      readonly client: string;
      readonly sequence: number;
      readonly key: string;
    }
  | {
      readonly kind: "read";
      readonly client: string;
      readonly sequence: number;
      readonly key: string;
    };

/** The liveness probe's entry: it must commit and reach every member once faults stop. */
export interface MarkerCommand {
  readonly kind: "marker";
  readonly marker: number;
}

export type Command = SessionCommand | MarkerCommand;

export type CommandResult =
  | { readonly kind: "put" }
  | { readonly kind: "append" }
  | { readonly kind: "get"; readonly value: string | null }
  | { readonly kind: "read"; readonly entries: readonly string[] }
  | { readonly kind: "marker" };

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
