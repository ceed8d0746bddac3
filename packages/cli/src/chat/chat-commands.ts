// What a line typed into `parley chat` means: a slash command with its
// arguments, or text for the current room. Pure, so every form is tested on
// its own.

export type ChatCommand =
  | { readonly type: "say"; readonly text: string }
  | {
      readonly type: "create";
      readonly name: string;
      readonly joinRule: "invite" | "knock" | "open";
      readonly encrypted: boolean;
    }
  | { readonly type: "join"; readonly room: string }
  | { readonly type: "invite"; readonly user: string; readonly room: string | undefined }
  | { readonly type: "rooms" }
  | { readonly type: "switch"; readonly room: string }
  | { readonly type: "msg"; readonly room: string; readonly text: string }
  | { readonly type: "leave"; readonly room: string | undefined }
  | { readonly type: "members"; readonly room: string | undefined }
  | { readonly type: "history"; readonly count: number }
  | { readonly type: "topic"; readonly topic: string }
  | { readonly type: "retry" }
  | { readonly type: "devices" }
  | { readonly type: "revoke"; readonly device: string }
  | { readonly type: "help" }
  | { readonly type: "quit" }
  | { readonly type: "nothing" }
  | { readonly type: "invalid"; readonly problem: string };

export const chatHelp = `commands:
  /create [--encrypted] NAME [open|knock]
                             create a room (invite-only unless open or knock; end-to-end
                             encrypted with --encrypted) and switch to it
  /join ROOM                 join a room you are invited to (or an open one)
  /invite USER [ROOM]        invite alice or alice@server to this room (or ROOM)
  /rooms                     list your rooms; * marks the current one
  /switch ROOM               make ROOM the current room
  /msg ROOM TEXT             send TEXT to ROOM; a line without / goes to the current room
  /leave [ROOM]              leave this room (or ROOM)
  /members [ROOM]            list the members of this room (or ROOM)
  /history [N]               show N earlier messages of this room (default 20); again for more
  /topic TEXT                set this room's topic
  /retry                     send again every message marked ! (failed)
  /devices                   list your devices
  /revoke DEVICE             revoke one of your other devices (its id, or the start of it);
                             it also leaves your encrypted rooms
  /help                      this list
  /quit                      leave parley chat
ROOM is a room's name, its number in /rooms, or its id (!…).
marks on your messages: … pending, ✓ accepted by the server, ✓✓ delivered, ! failed`;

/** History pages are at most this long (the server's page limit is 1000). */
const historyCountMax = 1000;
const historyCountDefault = 20;

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== "");
}

export function parseChatLine(line: string): ChatCommand {
  const text = line.trim();
  if (text === "") return { type: "nothing" };
  // "//text" sends a line that starts with a slash.
  if (text.startsWith("//")) return { type: "say", text: text.slice(1) };
  if (!text.startsWith("/")) return { type: "say", text };
  const [name = "", ...rest] = words(text.slice(1));
  const argumentText = text.slice(1 + name.length).trim();
  switch (name.toLowerCase()) {
    case "create": {
      const encrypted = rest[0]?.toLowerCase() === "--encrypted";
      const nameWords = encrypted ? rest.slice(1) : rest;
      const last = nameWords.at(-1)?.toLowerCase();
      const joinRule = last === "open" || last === "knock" ? last : "invite";
      const roomName = (joinRule === "invite" ? nameWords : nameWords.slice(0, -1)).join(" ");
      if (roomName === "")
        return { type: "invalid", problem: "usage: /create [--encrypted] NAME [open|knock]" };
      return { type: "create", name: roomName, joinRule, encrypted };
    }
    case "join":
      return rest[0] === undefined
        ? { type: "invalid", problem: "usage: /join ROOM" }
        : { type: "join", room: argumentText };
    case "invite":
      if (rest[0] === undefined) return { type: "invalid", problem: "usage: /invite USER [ROOM]" };
      return {
        type: "invite",
        user: rest[0],
        room: rest.length > 1 ? rest.slice(1).join(" ") : undefined,
      };
    case "rooms":
      return { type: "rooms" };
    case "switch":
    case "s":
      return rest[0] === undefined
        ? { type: "invalid", problem: "usage: /switch ROOM" }
        : { type: "switch", room: argumentText };
    case "msg": {
      const [room, ...message] = rest;
      if (room === undefined || message.length === 0)
        return { type: "invalid", problem: "usage: /msg ROOM TEXT" };
      return { type: "msg", room, text: argumentText.slice(room.length).trim() };
    }
    case "leave":
    case "part":
      return { type: "leave", room: argumentText === "" ? undefined : argumentText };
    case "members":
    case "who":
      return { type: "members", room: argumentText === "" ? undefined : argumentText };
    case "history": {
      if (rest[0] === undefined) return { type: "history", count: historyCountDefault };
      const count = Number(rest[0]);
      if (!Number.isInteger(count) || count < 1 || count > historyCountMax) {
        return { type: "invalid", problem: `usage: /history [N], N from 1 to ${historyCountMax}` };
      }
      return { type: "history", count };
    }
    case "topic":
      return { type: "topic", topic: argumentText };
    case "retry":
      return { type: "retry" };
    case "devices":
      return { type: "devices" };
    case "revoke":
      return rest[0] === undefined || rest.length > 1
        ? { type: "invalid", problem: "usage: /revoke DEVICE" }
        : { type: "revoke", device: rest[0] };
    case "help":
    case "?":
      return { type: "help" };
    case "quit":
    case "exit":
      return { type: "quit" };
    default:
      return { type: "invalid", problem: `unknown command /${name}; /help lists them` };
  }
}
