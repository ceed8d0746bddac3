// The `parley` command: `parley server` runs a homeserver, `parley chat` is a
// terminal client; the other commands are the client-side cryptography for
// trying the API by hand with curl.

import { parseArgs } from "node:util";
import { runChat } from "./chat/chat-command.ts";
import { runAdmin } from "./commands/admin/admin-command.ts";
import { runDemo } from "./commands/demo/demo-command.ts";
import {
  deviceRecord,
  keygen,
  showHistory,
  signChallenge,
  signMessage,
} from "./commands/device-tools.ts";
import { runServer } from "./commands/server-command.ts";

const usage = `usage: parley <command> [options]

commands:
  server [--config FILE]     run a homeserver (parley server --help lists every setting)
  admin <command>            administer a running homeserver (parley admin --help lists the commands)
  demo                       run a local federation of three homeservers with sample users
  chat --server HOST:PORT --user NAME [--register] [--data DIR]
                             chat from this terminal (parley chat --help for more)
  keygen                     make a device key: {"seed", "deviceId"} (keep the seed secret)
  device-record --seed S --user NAME --server HOST:PORT
                             sign a device identity record for register or login
  sign-challenge --seed S --challenge C --server HOST:PORT
                             sign a session challenge (POST /session)
  sign-message --seed S --room ROOM --client-id ID --text TEXT [--content-type TYPE]
                             sign a message envelope (POST /rooms/ROOM/messages)
  show-history               read a history page (JSON) on stdin; print it, signatures verified
`;

const toolOptions = {
  seed: { type: "string" },
  user: { type: "string" },
  server: { type: "string" },
  challenge: { type: "string" },
  room: { type: "string" },
  "client-id": { type: "string" },
  text: { type: "string" },
  "content-type": { type: "string" },
} as const;

function tool(args: readonly string[], run: (options: Record<string, string>) => string): number {
  const { values } = parseArgs({ args: [...args], options: toolOptions, strict: true });
  const options: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === "string") options[name] = value;
  }
  process.stdout.write(`${run(options)}\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "server":
      await runServer(rest);
      return 0;
    case "admin":
      return runAdmin(rest);
    case "demo":
      return runDemo(rest);
    case "chat":
      return runChat(rest, { input: process.stdin, output: process.stdout });
    case "keygen":
      return tool(rest, keygen);
    case "device-record":
      return tool(rest, deviceRecord);
    case "sign-challenge":
      return tool(rest, signChallenge);
    case "sign-message":
      return tool(rest, signMessage);
    case "show-history":
      return tool(rest, showHistory);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
