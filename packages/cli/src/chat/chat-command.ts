// `parley chat`: sign in (resume this machine's device for the user, or log
// in, or register with --register), then run a line-based chat session in
// this terminal. The device key and session live in one file per user under
// the data directory (default: the user's config directory), mode 0600.

import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultServerName, discoverServerName, ParleyClient } from "@parley/client";
import { FileStore, nodeClientOptions } from "@parley/client/node";
import {
  makeUserId,
  ParleyError,
  parseServerName,
  type ServerName,
  userIdParts,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { ChatSession } from "./chat-session.ts";
import { ChatTerminal, type TerminalStreams } from "./terminal.ts";

export const chatUsage = `usage: parley chat --server HOST:PORT --user NAME [--register] [--data DIR]

  --server HOST:PORT | URL   the homeserver (http:// is assumed without a scheme)
  --user NAME | NAME@SERVER  who you are; SERVER defaults to the name the homeserver
                             gives in its key document
  --register                 create the account (asks for a new password)
  --data DIR                 where the device key is kept (default ~/.config/parley)

The password is asked for without echo, only when this machine has no device
for the user yet. Type /help once connected.`;

export interface ChatArguments {
  readonly baseUrl: string;
  readonly userName: string;
  /** As given after @ in --user; otherwise asked of the server (see `resolveServerName`). */
  readonly serverName: string | undefined;
  readonly register: boolean;
  readonly dataDirectory: string;
}

export function parseChatArguments(
  args: readonly string[],
  configHomeVariable: string | undefined,
): ChatArguments {
  const { values } = parseArgs({
    args: [...args],
    options: {
      server: { type: "string" },
      user: { type: "string" },
      register: { type: "boolean" },
      data: { type: "string" },
    },
    strict: true,
  });
  if (values.server === undefined || values.user === undefined) {
    throw new ParleyError("bad_structure", `--server and --user are needed\n\n${chatUsage}`);
  }
  const baseUrl = /^https?:\/\//.test(values.server) ? values.server : `http://${values.server}`;
  const [userName = "", explicitServer] = values.user.split(/@(.*)/s);
  const serverName = explicitServer === undefined ? undefined : parseServerName(explicitServer);
  const configHome = configHomeVariable ?? join(homedir(), ".config");
  return {
    baseUrl: baseUrl.replace(/\/+$/, ""),
    userName,
    serverName,
    register: values.register === true,
    dataDirectory: values.data ?? join(configHome, "parley"),
  };
}

/** The server's own name (from its key document), else the one its address suggests. */
async function resolveServerName(chat: ChatArguments): Promise<ServerName> {
  if (chat.serverName !== undefined) return parseServerName(chat.serverName);
  const discovered = await discoverServerName(chat.baseUrl, {
    provider: nodeSignatureProvider,
    nowMs: Date.now(),
  });
  return discovered ?? parseServerName(defaultServerName(chat.baseUrl));
}

/** The file holding one user's device on this machine. */
export function deviceFilePath(chat: ChatArguments & { readonly serverName: string }): string {
  const userId = makeUserId(chat.userName, parseServerName(chat.serverName));
  const { localPart, server } = userIdParts(userId);
  return join(chat.dataDirectory, `${localPart}@${server.replace(/[:/]/g, "_")}.json`);
}

async function signIn(
  chat: ChatArguments & { readonly serverName: string },
  terminal: ChatTerminal,
): Promise<ParleyClient> {
  const store = new FileStore(deviceFilePath(chat));
  const options = nodeClientOptions({ store });
  const userId = makeUserId(chat.userName, parseServerName(chat.serverName));
  const restored = await ParleyClient.restore(options);
  if (restored !== undefined && restored.userId === userId && !chat.register) return restored;
  const account = { baseUrl: chat.baseUrl, userName: chat.userName, serverName: chat.serverName };
  if (chat.register) {
    const password = await terminal.askHidden(`new password for ${userId}: `);
    const again = await terminal.askHidden("the same password again: ");
    if (password !== again) throw new ParleyError("bad_structure", "the two passwords differ");
    return ParleyClient.register({ ...account, password }, options);
  }
  const password = await terminal.askHidden(`password for ${userId}: `);
  try {
    return await ParleyClient.login({ ...account, password }, options);
  } catch (error) {
    if (error instanceof ParleyError && error.code === "unauthorized") {
      throw new ParleyError(
        "unauthorized",
        "wrong user name or password (new here? add --register)",
      );
    }
    throw error;
  }
}

export async function runChat(args: readonly string[], streams: TerminalStreams): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    streams.output.write(`${chatUsage}\n`);
    return 0;
  }
  const { XDG_CONFIG_HOME: xdgConfigHome } = process.env;
  const chat = parseChatArguments(args, xdgConfigHome);
  const terminal = new ChatTerminal(streams);
  const client = await signIn({ ...chat, serverName: await resolveServerName(chat) }, terminal);
  await new ChatSession(client, terminal).run();
  return 0;
}
