// The chat screen's model: owns the signed-in ParleyClient, turns its events
// and answers into ChatState (chat-state.ts), and keeps the room cache in the
// browser database up to date so a reload shows the same rooms and history at
// once. React subscribes with useSyncExternalStore; components call the
// methods below and show the sentences they reject with.

import type {
  ClientEvent,
  CreateRoomInput,
  HistoryEvent,
  Member,
  ParleyClient,
  UserRoomAction,
} from "@parley/client";
import { parseRoomId, parseUserId, type RoomId } from "@parley/protocol";
import { describeError, UserFacingError, type UserTask } from "../errors/error-messages.ts";
import { parseServerList } from "../rooms/server-list.ts";
import type { RoomCache } from "../storage/room-cache.ts";
import { mergeTimeline, newestSequence } from "../timeline/merge.ts";
import {
  addEvents,
  type ChatState,
  initialChatState,
  type RoomMembership,
  type RoomView,
  removeRoom,
  setActiveRoom,
  setPageVisible,
  updateRoom,
} from "./chat-state.ts";
import { withDelivery } from "./delivery-view.ts";

/** Events per history request: one screen and a half. */
const historyPageSize = 50;
/** Pages fetched to close the gap between the cache and the newest events. */
const gapPagesMax = 10;
/** Rooms whose state and newest page are fetched at start-up; more load on opening. */
const roomsPreloadedMax = 100;
/** Room cache writes wait this long, so a burst of messages is written once. */
const cacheWriteDelayMs = 400;

/** Room changes after which the room's state (member count, this user's role) is fetched again. */
const membershipActions = new Set(["invite", "join", "leave", "kick", "ban", "unban", "set-role"]);

export class ChatModel {
  readonly client: ParleyClient;
  readonly #cache: RoomCache<HistoryEvent>;
  #state: ChatState;
  readonly #listeners = new Set<() => void>();
  readonly #cacheTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #stopListening: (() => void) | undefined;

  constructor(client: ParleyClient, cache: RoomCache<HistoryEvent>) {
    this.client = client;
    this.#cache = cache;
    this.#state = initialChatState(client.userId);
  }

  // ---- React's external store ---------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly snapshot = (): ChatState => this.#state;

  #set(next: ChatState): void {
    if (next === this.#state) return;
    const before = this.#state;
    this.#state = next;
    for (const roomId of Object.keys(next.rooms)) {
      if (before.rooms[roomId]?.events !== next.rooms[roomId]?.events)
        this.#scheduleCacheWrite(roomId);
    }
    if (
      Object.values(next.rooms).some(
        (room) => before.rooms[room.roomId]?.readThrough !== room.readThrough,
      )
    ) {
      this.#saveReadMarkers();
    }
    for (const listener of [...this.#listeners]) listener();
  }

  // ---- life cycle ---------------------------------------------------------

  /**
   * Shows the cache at once, then syncs with the server and opens the stream.
   * A failure is shown as the notice and rethrown (an `unauthorized` one means
   * the saved session is gone for good).
   */
  async start(): Promise<void> {
    // Starting again (after a failed start) keeps the one subscription.
    this.#stopListening ??= this.client.onEvent((event) => this.#handle(event));
    try {
      await this.#startSync();
    } catch (error) {
      this.#notice(error, "load");
      throw error;
    }
  }

  async #startSync(): Promise<void> {
    const markers = await this.#cache.readMarkers();
    const summaries = await this.#attempt("load", () => this.client.rooms());
    for (const summary of summaries.slice(0, roomsPreloadedMax)) {
      const cached = await this.#cache.events(summary.roomId);
      this.#set(
        updateRoom(
          this.#state,
          summary.roomId,
          (room) => ({
            ...room,
            membership: summary.membership,
            events: mergeTimeline(room.events, cached),
            readThrough: Math.max(
              room.readThrough,
              markers[summary.roomId] ?? newestSequence(cached),
            ),
          }),
          summary.membership,
        ),
      );
    }
    await this.client.start();
    await Promise.all(
      summaries.slice(0, roomsPreloadedMax).map(async (summary) => {
        await this.refreshRoom(summary.roomId).catch(() => undefined);
        if (summary.membership === "joined") {
          const firstSight = markers[summary.roomId] === undefined;
          await this.#fetchNewest(summary.roomId).catch(() => undefined);
          // A room first seen on this device starts read at its newest event.
          if (firstSight) this.#markRead(summary.roomId);
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.#stopListening?.();
    this.#stopListening = undefined;
    for (const [roomId, timer] of this.#cacheTimers) {
      clearTimeout(timer);
      await this.#writeCache(roomId);
    }
    await this.client.stop();
  }

  async signOut(): Promise<void> {
    await this.stop();
    await this.#cache.forget();
    await this.client.logout().catch(() => undefined);
  }

  // ---- rooms --------------------------------------------------------------

  openRoom(roomId: string | undefined): void {
    this.#set(setActiveRoom(this.#state, roomId));
    if (roomId === undefined) return;
    const room = this.#state.rooms[roomId];
    if (room?.membership === "joined") {
      this.#fetchNewest(roomId).catch((error: unknown) => this.#notice(error, "load"));
    }
  }

  pageVisibility(visible: boolean): void {
    this.#set(setPageVisible(this.#state, visible));
  }

  /** The room's state from the server: name, topic, rules, this user's role. */
  async refreshRoom(roomId: string): Promise<void> {
    const state = await this.client.roomState(roomId as RoomId);
    this.#set(
      updateRoom(this.#state, roomId, (room) => ({
        ...room,
        membership:
          state.membership === "none" ||
          state.membership === "left" ||
          state.membership === "banned"
            ? room.membership
            : (state.membership as RoomMembership),
        name: state.name,
        topic: state.topic,
        joinRule: state.joinRule,
        kind: state.kind,
        role: state.role,
        permissions: state.permissions,
        joinedMembers: state.joinedMembers,
      })),
    );
  }

  /**
   * One page older than the oldest event held. The timeline is kept in this
   * server's arrival order (room sequences, as the stream delivers), so pages
   * come from `arrivals`, not from history order.
   */
  async loadOlder(roomId: string): Promise<void> {
    const oldest = this.#state.rooms[roomId]?.events[0]?.sequence;
    const page = await this.#attempt("load", () =>
      this.client.arrivals(roomId as RoomId, {
        limit: historyPageSize,
        ...(oldest === undefined ? {} : { from: oldest }),
      }),
    );
    this.#set(addEvents(this.#state, page.events));
    if (!page.more)
      this.#set(updateRoom(this.#state, roomId, (room) => ({ ...room, historyComplete: true })));
  }

  async createRoom(input: CreateRoomInput): Promise<string> {
    const { roomId } = await this.#attempt("create-room", () => this.client.createRoom(input));
    this.#set(
      updateRoom(this.#state, roomId, (room) => ({ ...room, name: input.name, role: "admin" })),
    );
    await this.refreshRoom(roomId).catch(() => undefined);
    await this.#fetchNewest(roomId).catch(() => undefined);
    return roomId;
  }

  async invite(roomId: string, userId: string): Promise<void> {
    const target = this.#attempt("invite", async () => parseUserId(userId.trim()));
    await this.#attempt("invite", async () => this.client.invite(roomId as RoomId, await target));
  }

  /** Joins a room: accepting an invitation, or entering an open room by its id. */
  /** Joins by id; `viaText` names servers to reach a room this server does not know yet. */
  async join(roomIdText: string, viaText = ""): Promise<string> {
    const roomId = await this.#attempt("join", async () => parseRoomId(roomIdText.trim()));
    const via = await this.#attempt("join", async () => parseServerList(viaText));
    await this.#attempt("join", () => this.client.join(roomId, { via }));
    this.#set(updateRoom(this.#state, roomId, (room) => ({ ...room, membership: "joined" })));
    await this.refreshRoom(roomId).catch(() => undefined);
    await this.#fetchNewest(roomId).catch(() => undefined);
    return roomId;
  }

  async leave(roomId: string): Promise<void> {
    await this.#attempt("room-action", () => this.client.leave(roomId as RoomId));
    this.#set(removeRoom(this.#state, roomId));
  }

  /** Any other room action (settings, roles, kick, ban); refreshes the room after. */
  async act(roomId: string, action: UserRoomAction): Promise<void> {
    await this.#attempt("room-action", () => this.client.act(roomId as RoomId, action));
    await this.refreshRoom(roomId).catch(() => undefined);
  }

  members(roomId: string): Promise<Member[]> {
    return this.#attempt("load", () => this.client.allMembers(roomId as RoomId));
  }

  // ---- messages -----------------------------------------------------------

  async send(roomId: string, text: string): Promise<void> {
    const message = await this.#attempt("send", () => this.client.send(roomId as RoomId, text));
    this.#set({
      ...this.#state,
      pending: [
        ...this.#state.pending,
        { roomId, clientId: message.clientId, text, createdAtMs: message.createdAtMs },
      ],
      deliveries: { ...this.#state.deliveries, [message.clientId]: message.state.status },
    });
  }

  retry(roomId: string, clientId: string): void {
    const message = this.client
      .unacceptedMessages()
      .find((item) => item.roomId === roomId && item.clientId === clientId);
    message?.retry();
  }

  dismissNotice(): void {
    this.#set({ ...this.#state, notice: undefined });
  }

  // ---- internals ----------------------------------------------------------

  #handle(event: ClientEvent): void {
    switch (event.type) {
      case "message":
      case "undecryptable":
      case "room-change": {
        const known = this.#state.rooms[event.roomId] !== undefined;
        this.#set(addEvents(this.#state, [event]));
        // A new room, or a change of who is in it: its member count and roles moved.
        if (!known || (event.type === "room-change" && membershipActions.has(event.action.type))) {
          this.refreshRoom(event.roomId).catch(() => undefined);
        }
        return;
      }
      case "invite":
        this.#set(
          updateRoom(
            this.#state,
            event.roomId,
            (room) => ({
              ...room,
              membership: "invited",
              name: event.roomName,
              invitedBy: event.by,
            }),
            "invited",
          ),
        );
        return;
      case "membership":
        if (event.membership !== "joined" && event.membership !== "invited") {
          const title = event.roomName === "" ? event.roomId : event.roomName;
          const verb = { banned: "banned you from", left: "removed you from" } as Record<
            string,
            string
          >;
          const words = verb[event.membership] ?? "changed your membership of";
          this.#set({
            ...removeRoom(this.#state, event.roomId),
            notice: `${event.by} ${words} “${title}”.`,
          });
        }
        return;
      case "connection":
        this.#set({ ...this.#state, connection: event.state });
        return;
      case "delivery":
        this.#set(withDelivery(this.#state, event));
        return;
      case "missed":
        return;
      case "error":
        this.#notice(event.error, "load");
        return;
    }
  }

  /** Fetches the newest page, and older ones until it meets what the cache holds. */
  async #fetchNewest(roomId: string): Promise<void> {
    const held = newestSequence(this.#state.rooms[roomId]?.events ?? []);
    let from: number | undefined;
    for (let page = 0; page < gapPagesMax; page += 1) {
      const answer = await this.client.arrivals(roomId as RoomId, {
        limit: historyPageSize,
        ...(from === undefined ? {} : { from }),
      });
      this.#set(addEvents(this.#state, answer.events));
      const oldest = answer.events.at(-1)?.sequence;
      if (!answer.more) {
        this.#set(updateRoom(this.#state, roomId, (room) => ({ ...room, historyComplete: true })));
        return;
      }
      if (oldest === undefined || oldest <= held + 1) return;
      from = answer.next;
    }
  }

  #markRead(roomId: string): void {
    this.#set(
      updateRoom(this.#state, roomId, (room: RoomView) => ({
        ...room,
        readThrough: Math.max(room.readThrough, newestSequence(room.events)),
      })),
    );
  }

  async #attempt<Result>(task: UserTask, work: () => Promise<Result>): Promise<Result> {
    try {
      return await work();
    } catch (error) {
      throw new UserFacingError(describeError(error, task), { cause: error });
    }
  }

  #notice(error: unknown, task: UserTask): void {
    this.#set({ ...this.#state, notice: describeError(error, task) });
  }

  #scheduleCacheWrite(roomId: string): void {
    if (this.#cacheTimers.has(roomId)) return;
    this.#cacheTimers.set(
      roomId,
      setTimeout(() => {
        this.#writeCache(roomId).catch(() => undefined);
      }, cacheWriteDelayMs),
    );
  }

  async #writeCache(roomId: string): Promise<void> {
    this.#cacheTimers.delete(roomId);
    const room = this.#state.rooms[roomId];
    // Only plain rooms are cached in the clear: an encrypted room's plaintexts
    // stay sealed in the SDK's store, and its history reads back from there.
    if (room !== undefined && room.kind === "plain")
      await this.#cache.saveEvents(roomId, room.events);
  }

  #saveReadMarkers(): void {
    const markers: Record<string, number> = {};
    for (const room of Object.values(this.#state.rooms)) markers[room.roomId] = room.readThrough;
    this.#cache.saveReadMarkers(markers).catch(() => undefined);
  }
}
