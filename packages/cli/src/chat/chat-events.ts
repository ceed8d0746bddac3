// What `parley chat` prints for each SDK event: messages with time, room and
// sender; room changes and invitations as notices; connection changes; and
// the delivery mark of each message this user typed, rewritten in place
// while it is still the last line.

import {
  type ClientEvent,
  type DeliveryState,
  type ParleyClient,
  type RoomChangeEvent,
  type UndecryptableEvent,
  undecryptableReason,
} from "@parley/client";
import { type RoomId, userIdParts } from "@parley/protocol";
import { deliveryMark, messageLine, noticeLine } from "./chat-format.ts";
import type { RoomDirectory } from "./room-directory.ts";
import type { ChatTerminal } from "./terminal.ts";

export interface OwnLine {
  readonly roomId: RoomId;
  readonly text: string;
  readonly timeMs: number;
}

export class ChatEvents {
  readonly #client: ParleyClient;
  readonly #terminal: ChatTerminal;
  readonly #rooms: RoomDirectory;
  /** Messages typed here, by client id: their echo is not printed again, their mark is updated. */
  readonly #own = new Map<string, OwnLine>();
  #everConnected = false;

  constructor(client: ParleyClient, terminal: ChatTerminal, rooms: RoomDirectory) {
    this.#client = client;
    this.#terminal = terminal;
    this.#rooms = rooms;
  }

  /** A short name: the local part for users of this server, the full id otherwise. */
  who(userId: string): string {
    const { localPart, server } = userIdParts(userId);
    return server === this.#client.serverName ? localPart : userId;
  }

  /** An encrypted message this device cannot read, said in words where the text would be. */
  undecryptableLine(event: UndecryptableEvent): string {
    return messageLine({
      timeMs: event.acceptedAtMs,
      room: this.#rooms.label(event.roomId),
      sender: this.who(event.sender),
      text: `(${undecryptableReason(event.error)})`,
    });
  }

  /** Prints a message this user just sent, with its first mark. */
  printOwn(clientId: string, line: OwnLine, state: DeliveryState): void {
    this.#own.set(clientId, line);
    this.#terminal.print(this.#ownLine(line, state), clientId);
  }

  handle(event: ClientEvent): void {
    switch (event.type) {
      case "message":
        if (event.fromThisDevice && this.#own.has(event.clientId)) return;
        this.#terminal.print(
          messageLine({
            timeMs: event.acceptedAtMs,
            room: this.#rooms.label(event.roomId),
            sender: this.who(event.sender),
            text: event.text ?? `(${event.body.byteLength} bytes of ${event.contentType})`,
          }),
        );
        return;
      case "undecryptable":
        this.#terminal.print(this.undecryptableLine(event));
        return;
      case "room-change":
        this.#roomChange(event);
        return;
      case "invite":
        this.#rooms.set(event.roomId, "invited", event.roomName);
        // `by` is unknown when this server learnt the invitation from another server's snapshot.
        this.#notice(
          `${event.by === undefined ? "Someone" : this.who(event.by)} invited you to ${this.#rooms.label(event.roomId)}: /join ${this.#rooms.label(event.roomId)}`,
        );
        return;
      case "membership":
        this.#notice(
          `${this.who(event.by)} changed your membership of ${this.#rooms.label(event.roomId)} to ${event.membership}${event.reason === undefined || event.reason === "" ? "" : ` (${event.reason})`}`,
        );
        if (event.membership !== "joined" && event.membership !== "invited")
          this.#rooms.remove(event.roomId);
        return;
      case "delivery":
        this.#delivery(event.clientId, event.state);
        return;
      case "connection":
        this.#connection(event);
        return;
      case "missed":
        this.#notice(
          `${event.count} older events could not be fetched; /history shows what is kept`,
        );
        return;
      case "error":
        this.#notice(
          `could not use something from the server: ${event.error.code}: ${event.error.message}`,
        );
        return;
    }
  }

  #ownLine(line: OwnLine, state: DeliveryState): string {
    return messageLine({
      timeMs: line.timeMs,
      room: this.#rooms.label(line.roomId),
      sender: this.who(this.#client.userId),
      text: line.text,
      mark: deliveryMark(state),
    });
  }

  #delivery(clientId: string, state: DeliveryState): void {
    const line = this.#own.get(clientId);
    if (line === undefined || state.status === "pending") return;
    const short = line.text.length > 30 ? `${line.text.slice(0, 30)}…` : line.text;
    this.#terminal.update(
      clientId,
      this.#ownLine(line, state),
      `  ${deliveryMark(state)} "${short}"`,
    );
  }

  #connection(event: Extract<ClientEvent, { type: "connection" }>): void {
    const { state } = event;
    if (state.status === "connected") {
      this.#notice(
        this.#everConnected ? "connected again" : `connected to ${this.#client.baseUrl}`,
      );
      this.#everConnected = true;
    } else if (state.status === "reconnecting") {
      this.#notice(
        `connection lost (${state.error.message}); trying again in ${Math.ceil(state.delayMs / 1000)} s`,
      );
    } else if (state.status === "stopped" && state.error !== undefined) {
      this.#notice(`disconnected: ${state.error.code}: ${state.error.message}`);
    }
  }

  #roomChange(event: RoomChangeEvent): void {
    const { action } = event;
    const actor = event.actor.type === "user" ? this.who(event.actor.user) : event.actor.server;
    const room = this.#rooms.label(event.roomId);
    switch (action.type) {
      case "create":
        return;
      case "join":
        this.#notice(`${actor} joined ${room}`);
        return;
      case "leave":
        this.#notice(`${actor} left ${room}`);
        return;
      case "invite":
        this.#notice(`${actor} invited ${this.who(action.target)} to ${room}`);
        return;
      case "kick":
      case "ban":
        this.#notice(
          `${actor} ${action.type === "kick" ? "kicked" : "banned"} ${this.who(action.target)} from ${room}${action.reason === "" ? "" : ` (${action.reason})`}`,
        );
        return;
      case "set-name":
        this.#rooms.set(
          event.roomId,
          this.#rooms.get(event.roomId)?.standing ?? "joined",
          action.name,
        );
        this.#notice(`${actor} renamed ${room} to ${this.#rooms.label(event.roomId)}`);
        return;
      case "set-topic":
        this.#notice(`${actor} set the topic of ${room}: ${action.topic}`);
        return;
      default:
        this.#notice(`${actor} changed ${room}: ${action.type}`);
    }
  }

  #notice(text: string): void {
    this.#terminal.print(noticeLine(text));
  }
}
