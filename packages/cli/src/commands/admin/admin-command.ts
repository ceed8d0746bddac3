// `parley admin`: the operator's commands against a running homeserver's
// admin API. The server address comes from --server, PARLEY_ADMIN_URL, or
// the default listen address; the admin token from --token,
// PARLEY_ADMIN_TOKEN, or the `admin-token` file in the data directory
// (--data-directory, PARLEY_DATA_DIRECTORY, or ./parley-data — the server's
// own default), so on the server's machine no flag is needed.

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ClientError } from "../../client/http-client.ts";
import { AdminClient } from "./admin-client.ts";

export const adminUsage = `usage: parley admin [options] <command>

commands:
  invite create [--uses N] [--expires-in DURATION]   make an invite token (DURATION: 90s, 30m, 24h, 7d)
  invite list                                         invite tokens, with uses left and expiry
  invite revoke TOKEN_ID                              make an invite token unusable
  user list                                           accounts, with live devices
  user deactivate NAME                                end a user's devices and sessions for good
  room list                                           rooms, with joined members
  block add SERVER [--reason TEXT]                    refuse device records attested by SERVER
  block remove SERVER                                 lift a block
  block list                                          blocked servers

options:
  --server URL            the homeserver (PARLEY_ADMIN_URL; default http://127.0.0.1:8008)
  --token TOKEN           the admin token (PARLEY_ADMIN_TOKEN; default: read from the data directory)
  --data-directory DIR    the server's data directory (PARLEY_DATA_DIRECTORY; default ./parley-data)
  --json                  print the server's JSON answer instead of text
`;

const options = {
  server: { type: "string" },
  token: { type: "string" },
  "data-directory": { type: "string" },
  json: { type: "boolean" },
  uses: { type: "string" },
  "expires-in": { type: "string" },
  reason: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const unitsMs: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export function parseDurationMs(text: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : unitsMs[match[2]];
  if (match?.[1] === undefined || unit === undefined) {
    throw new UsageError(`"${text}" is not a duration such as 90s, 30m, 24h or 7d`);
  }
  return Number(match[1]) * unit;
}

class UsageError extends Error {}

async function adminToken(values: { token?: string; "data-directory"?: string }): Promise<string> {
  const given = values.token ?? process.env[tokenVariable];
  if (given !== undefined && given !== "") return given;
  const directory = resolve(
    values["data-directory"] ?? process.env[dataDirectoryVariable] ?? "./parley-data",
  );
  const path = join(directory, "admin-token");
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    throw new UsageError(
      `no admin token: pass --token, set PARLEY_ADMIN_TOKEN, or point --data-directory at the server's data directory (no ${path})`,
    );
  }
}

/** The fields of the admin API's answers that the text output shows. */
type Row = Readonly<
  Partial<
    Record<
      | "token"
      | "tokenId"
      | "usesLeft"
      | "expiresAtMs"
      | "usable"
      | "userId"
      | "liveDevices"
      | "createdAtMs"
      | "deactivatedAtMs"
      | "alreadyDeactivated"
      | "devicesRevoked"
      | "roomId"
      | "kind"
      | "joinedMembers"
      | "lastEventSequence"
      | "alreadyBlocked"
      | "server"
      | "blockedAtMs"
      | "reason",
      unknown
    >
  >
>;

const tokenVariable = "PARLEY_ADMIN_TOKEN";
const dataDirectoryVariable = "PARLEY_DATA_DIRECTORY";
const urlVariable = "PARLEY_ADMIN_URL";

function time(value: unknown): string {
  return typeof value === "number" ? new Date(value).toISOString() : "never";
}

function table(rows: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join("  "),
    )
    .join("\n");
}

interface Command {
  readonly words: string;
  run(client: AdminClient, argument: string | undefined, values: Values): Promise<unknown>;
  text(answer: unknown): string;
}

type Values = { uses?: string; "expires-in"?: string; reason?: string };

function requireArgument(argument: string | undefined, what: string): string {
  if (argument === undefined || argument === "") throw new UsageError(`name the ${what}`);
  return argument;
}

const commands: readonly Command[] = [
  {
    words: "invite create",
    run(client, _argument, values) {
      const uses = values.uses === undefined ? 1 : Number(values.uses);
      if (!Number.isSafeInteger(uses) || uses < 1) throw new UsageError("--uses takes a count");
      const expiresIn = values["expires-in"];
      return client.request("POST", "/invites", {
        uses,
        expiresInMs: expiresIn === undefined ? null : parseDurationMs(expiresIn),
      });
    },
    text(answer) {
      const invite = answer as Row;
      return [
        `invite token: ${String(invite.token)}`,
        `  id:         ${String(invite.tokenId)}`,
        `  uses:       ${String(invite.usesLeft)}`,
        `  expires:    ${time(invite.expiresAtMs)}`,
        "The token is shown once; the server keeps only its hash.",
      ].join("\n");
    },
  },
  {
    words: "invite list",
    run: (client) => client.list("/invites", "invites"),
    text: (answer) =>
      table([
        ["ID", "USES LEFT", "EXPIRES", "USABLE"],
        ...(answer as Row[]).map((invite) => [
          String(invite.tokenId),
          String(invite.usesLeft),
          time(invite.expiresAtMs),
          invite.usable === true ? "yes" : "no",
        ]),
      ]),
  },
  {
    words: "invite revoke",
    run: (client, argument) =>
      client.request(
        "DELETE",
        `/invites/${encodeURIComponent(requireArgument(argument, "token id"))}`,
      ),
    text: () => "revoked",
  },
  {
    words: "user list",
    run: (client) => client.list("/users", "users"),
    text: (answer) =>
      table([
        ["USER", "DEVICES", "CREATED", "DEACTIVATED"],
        ...(answer as Row[]).map((user) => [
          String(user.userId),
          String(user.liveDevices),
          time(user.createdAtMs),
          user.deactivatedAtMs === null ? "-" : time(user.deactivatedAtMs),
        ]),
      ]),
  },
  {
    words: "user deactivate",
    run(client, argument) {
      // A full user id names the same account as its local part.
      const name = requireArgument(argument, "user").split("@")[0] ?? "";
      return client.request("POST", `/users/${encodeURIComponent(name)}/deactivate`);
    },
    text(answer) {
      const outcome = answer as Row;
      return outcome.alreadyDeactivated === true
        ? `${String(outcome.userId)} was already deactivated (${time(outcome.deactivatedAtMs)})`
        : `${String(outcome.userId)} deactivated; ${String(outcome.devicesRevoked)} device(s) revoked`;
    },
  },
  {
    words: "room list",
    run: (client) => client.list("/rooms", "rooms"),
    text: (answer) =>
      table([
        ["ROOM", "KIND", "JOINED", "MESSAGES", "CREATED"],
        ...(answer as Row[]).map((room) => [
          String(room.roomId),
          String(room.kind),
          String(room.joinedMembers),
          String(room.lastEventSequence),
          time(room.createdAtMs),
        ]),
      ]),
  },
  {
    words: "block add",
    run: (client, argument, values) =>
      client.request("POST", "/blocks", {
        server: requireArgument(argument, "server"),
        reason: values.reason ?? "",
      }),
    text(answer) {
      const block = answer as Row;
      return block.alreadyBlocked === true
        ? `${String(block.server)} was already blocked (${time(block.blockedAtMs)})`
        : `${String(block.server)} blocked`;
    },
  },
  {
    words: "block remove",
    run: (client, argument) =>
      client.request(
        "DELETE",
        `/blocks/${encodeURIComponent(requireArgument(argument, "server"))}`,
      ),
    text: () => "unblocked",
  },
  {
    words: "block list",
    run: (client) => client.list("/blocks", "blocks"),
    text: (answer) =>
      table([
        ["SERVER", "BLOCKED", "REASON"],
        ...(answer as Row[]).map((block) => [
          String(block.server),
          time(block.blockedAtMs),
          String(block.reason),
        ]),
      ]),
  },
];

/** Runs `parley admin ARGS`; returns the exit code (0, 1 for a refusal, 2 for usage). */
export async function runAdmin(args: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true || positionals.length === 0) {
      process.stdout.write(adminUsage);
      return 0;
    }
    const words = positionals.slice(0, 2).join(" ");
    const command = commands.find((candidate) => candidate.words === words);
    if (command === undefined) throw new UsageError(`unknown admin command "${words}"`);
    if (positionals.length > 3) throw new UsageError("too many arguments");
    const server = values.server ?? process.env[urlVariable] ?? "http://127.0.0.1:8008";
    const client = new AdminClient(server, await adminToken(values));
    const answer = await command.run(client, positionals[2], values);
    process.stdout.write(
      `${values.json === true ? JSON.stringify(answer, null, 2) : command.text(answer)}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
      process.stderr.write(`parley admin: ${error.message}\n\n${adminUsage}`);
      return 2;
    }
    if (error instanceof ClientError) {
      process.stderr.write(`parley admin: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
