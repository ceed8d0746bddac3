// One `parley chat` session: the signed-in client, the rooms it knows, and
// what each typed command does. Errors from the server are printed in words
// with their code; nothing a user types can crash the session.

import type { HistoryEvent, ParleyClient, TimelineEvent } from "@parley/client";
import {
  makeUserId,
  ParleyError,
  parseServerName,
  parseUserId,
  type RoomId,
  type UserId,
} from "@parley/protocol";
import { type ChatCommand, chatHelp, parseChatLine } from "./chat-commands.ts";
import { ChatEvents } from "./chat-events.ts";
import { messageLine, noticeLine } from "./chat-format.ts";
import { type KnownRoom, RoomDirectory } from "./room-directory.ts";
import type { ChatTerminal } from "./terminal.ts";

export class ChatSession {
  readonly #client: ParleyClient;
  readonly #terminal: ChatTerminal;
  readonly #rooms = new RoomDirectory();
  readonly #events: ChatEvents;
  /** Per room, where /history goes on from (a room sequence), once it has been used. */
  /** Per room, the history cursor `/history` pages on from (history order, §10.4). */
  readonly #historyFrom = new Map<RoomId, string>();
  #closed: (() => void) | undefined;

  constructor(client: ParleyClient, terminal: ChatTerminal) {
    this.#client = client;
    this.#terminal = terminal;
    this.#events = new ChatEvents(client, terminal, this.#rooms);
  }

  /** Runs until /quit, Ctrl-C or end of input. */
  async run(): Promise<void> {
    this.#client.onEvent((event) => {
      this.#events.handle(event);
      if (event.type === "room-change") this.#followMembership(event);
    });
    this.#notice(
      `signed in as ${this.#client.userId} (device ${this.#client.deviceId.slice(0, 8)}…); /help lists commands`,
    );
    for (const room of await this.#client.rooms()) {
      const state = await this.#client.roomState(room.roomId);
      this.#rooms.set(room.roomId, room.membership, state.name);
    }
    this.#rooms.current = this.#rooms.list().find((room) => room.standing === "joined")?.roomId;
    this.#listRooms();
    const finished = new Promise<void>((resolve) => {
      this.#closed = resolve;
    });
    this.#terminal.start(
      this.#prompt(),
      (line) => {
        const command = parseChatLine(line);
        if (command.type === "say" || command.type === "msg") this.#terminal.eraseTypedLine(line);
        void this.#perform(command);
      },
      () => this.#closed?.(),
    );
    await this.#client.start();
    await finished;
    await this.#client.stop();
  }

  async #perform(command: ChatCommand): Promise<void> {
    try {
      await this.#execute(command);
    } catch (error) {
      const parleyError =
        error instanceof ParleyError ? error : new ParleyError("internal", String(error));
      this.#notice(`${parleyError.code}: ${parleyError.message}`);
    }
    this.#terminal.setPrompt(this.#prompt());
  }

  async #execute(command: ChatCommand): Promise<void> {
    switch (command.type) {
      case "nothing":
        return;
      case "invalid":
        return this.#notice(command.problem);
      case "help":
        for (const line of chatHelp.split("\n")) this.#terminal.print(line);
        return;
      case "quit":
        this.#terminal.close();
        return;
      case "say":
        return this.#say(this.#currentRoom(), command.text);
      case "msg":
        return this.#say(this.#room(command.room), command.text);
      case "create": {
        const { roomId } = await this.#client.createRoom({
          name: command.name,
          joinRule: command.joinRule,
          kind: command.encrypted ? "encrypted" : "plain",
        });
        this.#rooms.set(roomId, "joined", command.name);
        this.#rooms.current = roomId;
        const kind = command.encrypted ? "end-to-end encrypted room " : "";
        return this.#notice(
          `created ${kind}${this.#rooms.label(roomId)} (${roomId}); /invite USER to bring people in`,
        );
      }
      case "join": {
        const known = this.#rooms.resolve(command.room);
        const roomId =
          known?.roomId ?? (command.room.startsWith("!") ? (command.room as RoomId) : undefined);
        if (roomId === undefined)
          return this.#notice(`no room "${command.room}" known; use its id (!…)`);
        await this.#client.join(roomId);
        const state = await this.#client.roomState(roomId);
        this.#rooms.set(roomId, "joined", state.name);
        this.#rooms.current = roomId;
        return this.#notice(
          `joined ${this.#rooms.label(roomId)}${state.topic === "" ? "" : `: ${state.topic}`}`,
        );
      }
      case "invite": {
        const room = command.room === undefined ? this.#currentRoom() : this.#room(command.room);
        const user = this.#userId(command.user);
        await this.#client.invite(room.roomId, user);
        return this.#notice(`invited ${user} to ${this.#rooms.label(room.roomId)}`);
      }
      case "rooms":
        return this.#listRooms();
      case "switch": {
        const room = this.#room(command.room);
        this.#rooms.current = room.roomId;
        return this.#notice(`now in ${this.#rooms.label(room.roomId)}`);
      }
      case "leave": {
        const room = command.room === undefined ? this.#currentRoom() : this.#room(command.room);
        await this.#client.leave(room.roomId);
        const label = this.#rooms.label(room.roomId);
        this.#rooms.remove(room.roomId);
        return this.#notice(`left ${label}`);
      }
      case "members":
        return this.#members(
          command.room === undefined ? this.#currentRoom() : this.#room(command.room),
        );
      case "history":
        return this.#history(this.#currentRoom(), command.count);
      case "topic": {
        const room = this.#currentRoom();
        await this.#client.setTopic(room.roomId, command.topic);
        return;
      }
      case "devices":
        return this.#listDevices();
      case "revoke":
        return this.#revoke(command.device);
      case "retry": {
        const failed = this.#client
          .unacceptedMessages()
          .filter((message) => message.state.status === "failed");
        for (const message of failed) message.retry();
        return this.#notice(
          failed.length === 0 ? "nothing to retry" : `sending ${failed.length} again`,
        );
      }
    }
  }

  async #say(room: KnownRoom, text: string): Promise<void> {
    const message = await this.#client.send(room.roomId, text);
    this.#events.printOwn(
      message.clientId,
      { roomId: room.roomId, text, timeMs: message.createdAtMs },
      message.state,
    );
  }

  async #listDevices(): Promise<void> {
    const devices = await this.#client.devices.list();
    this.#notice(`${devices.length} devices:`);
    for (const device of devices) {
      const state = device.current
        ? " (this one)"
        : device.revokedAtMs === null
          ? ""
          : ` [revoked ${new Date(device.revokedAtMs).toISOString().slice(0, 10)}]`;
      this.#terminal.print(`    ${device.deviceId}${state}`);
    }
  }

  /** Revokes the one other live device whose id starts with `prefix`. */
  async #revoke(prefix: string): Promise<void> {
    const matches = (await this.#client.devices.list()).filter(
      (device) =>
        device.deviceId.startsWith(prefix) && !device.current && device.revokedAtMs === null,
    );
    const [device, ...others] = matches;
    if (device === undefined)
      return this.#notice(`none of your other devices starts with ${prefix}; see /devices`);
    if (others.length > 0)
      return this.#notice(`${prefix} matches several devices; give more of the id`);
    await this.#client.devices.revoke(device.deviceId);
    this.#notice(`revoked ${device.deviceId}; it is taken out of your encrypted rooms`);
  }

  async #members(room: KnownRoom): Promise<void> {
    const members = await this.#client.allMembers(room.roomId);
    this.#notice(`${members.length} in ${this.#rooms.label(room.roomId)}:`);
    for (const member of members) {
      const role = member.role === "member" ? "" : ` (${member.role})`;
      const membership = member.membership === "joined" ? "" : ` [${member.membership}]`;
      this.#terminal.print(`    ${this.#events.who(member.userId)}${role}${membership}`);
    }
  }

  async #history(room: KnownRoom, count: number): Promise<void> {
    const from = this.#historyFrom.get(room.roomId);
    const page = await this.#client.history(room.roomId, {
      direction: "backward",
      limit: count,
      ...(from === undefined ? {} : { from }),
    });
    if (page.events.length === 0)
      return this.#notice(`no earlier events in ${this.#rooms.label(room.roomId)}`);
    if (page.next !== null) this.#historyFrom.set(room.roomId, page.next);
    this.#notice(`history of ${this.#rooms.label(room.roomId)}, oldest first:`);
    for (const event of [...page.events].reverse()) this.#terminal.print(this.#historyLine(event));
    this.#notice(page.more ? "/history for more" : "that is the beginning of the room");
  }

  #historyLine(event: HistoryEvent): string {
    if (event.type === "undecryptable") return this.#events.undecryptableLine(event);
    if (event.type === "message") {
      return messageLine({
        timeMs: event.acceptedAtMs,
        room: this.#rooms.label(event.roomId),
        sender: this.#events.who(event.sender),
        text: event.text ?? `(${event.body.byteLength} bytes of ${event.contentType})`,
      });
    }
    const actor =
      event.actor.type === "user" ? this.#events.who(event.actor.user) : event.actor.server;
    return noticeLine(`${actor}: ${event.action.type}`);
  }

  #listRooms(): void {
    const rooms = this.#rooms.list();
    if (rooms.length === 0) {
      this.#notice("no rooms yet: /create NAME, or wait for an invite");
      return;
    }
    this.#notice("your rooms:");
    rooms.forEach((room, index) => {
      const mark = room.roomId === this.#rooms.current ? "*" : " ";
      const standing = room.standing === "joined" ? "" : ` [${room.standing}]`;
      this.#terminal.print(
        `  ${mark}${index + 1} ${this.#rooms.label(room.roomId)}${standing} ${room.roomId}`,
      );
    });
  }

  /** Keeps the room list true when this user's own membership changes (e.g. joined elsewhere). */
  #followMembership(event: Extract<TimelineEvent, { type: "room-change" }>): void {
    const { action } = event;
    const actor = event.actor.type === "user" ? event.actor.user : undefined;
    if (action.type === "join" && actor === this.#client.userId) {
      this.#rooms.set(event.roomId, "joined");
    }
    if (action.type === "set-name") this.#terminal.setPrompt(this.#prompt());
  }

  #room(text: string): KnownRoom {
    const room = this.#rooms.resolve(text);
    if (room === undefined)
      throw new ParleyError("not_found", `no room "${text}"; /rooms lists yours`);
    return room;
  }

  #currentRoom(): KnownRoom {
    const room =
      this.#rooms.current === undefined ? undefined : this.#rooms.get(this.#rooms.current);
    if (room === undefined)
      throw new ParleyError("not_found", "no current room: /create, /join or /switch first");
    return room;
  }

  #userId(text: string): UserId {
    if (text.includes("@")) return parseUserId(text);
    return makeUserId(text, parseServerName(this.#client.serverName));
  }

  #prompt(): string {
    return this.#rooms.current === undefined ? "> " : `${this.#rooms.label(this.#rooms.current)}> `;
  }

  #notice(text: string): void {
    this.#terminal.print(noticeLine(text));
  }
}
