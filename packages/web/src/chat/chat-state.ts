// The state the chat screen renders, and the pure steps that change it. The
// model (chat-model.ts) feeds SDK events and server answers through these;
// React only reads the result. Every value is immutable: a step returns a new
// state, so React sees what changed by identity.

import type { ConnectionState, DeliveryStatus, HistoryEvent } from "@parley/client";
import type { JoinRule, Permissions, Role } from "@parley/room";
import { advancedMarker, unreadCount } from "../rooms/unread.ts";
import { mergeTimeline, newestSequence } from "../timeline/merge.ts";

export type RoomMembership = "joined" | "invited" | "knocking";

export interface RoomView {
  readonly roomId: string;
  readonly membership: RoomMembership;
  readonly name: string;
  readonly topic: string;
  readonly joinRule: JoinRule | undefined;
  readonly kind: "plain" | "encrypted" | undefined;
  /** This user's role; members until the room's state says otherwise. */
  readonly role: Role;
  readonly permissions: Permissions | undefined;
  readonly joinedMembers: number | undefined;
  /** Who invited this user, for invitations. */
  readonly invitedBy: string | undefined;
  /** Ascending room sequence, each once. */
  readonly events: readonly HistoryEvent[];
  /** The newest sequence this user has seen with the room open. */
  readonly readThrough: number;
  readonly unread: number;
  /** No older events exist than the oldest held. */
  readonly historyComplete: boolean;
}

/** A message this device sent that the timeline does not show yet. */
export interface PendingMessage {
  readonly roomId: string;
  readonly clientId: string;
  readonly text: string;
  readonly createdAtMs: number;
}

export interface ChatState {
  readonly userId: string;
  readonly connection: ConnectionState;
  readonly rooms: Readonly<Record<string, RoomView>>;
  /** Sent from this device and not yet in its room's timeline, oldest first. */
  readonly pending: readonly PendingMessage[];
  /** Delivery of each message this device sent, by client id. */
  readonly deliveries: Readonly<Record<string, DeliveryStatus>>;
  /** Why the last failed delivery failed, by client id. */
  readonly deliveryErrors: Readonly<Record<string, string>>;
  /** How far each sent message has come, in words, once the server reported counts. */
  readonly deliveryCounts: Readonly<Record<string, string>>;
  readonly activeRoomId: string | undefined;
  /** The page is on screen: only then does the open room's news count as read. */
  readonly pageVisible: boolean;
  /** A sentence for the user about something that went wrong in the background. */
  readonly notice: string | undefined;
}

export function initialChatState(userId: string): ChatState {
  return {
    userId,
    connection: { status: "stopped", error: undefined },
    rooms: {},
    pending: [],
    deliveries: {},
    deliveryErrors: {},
    deliveryCounts: {},
    activeRoomId: undefined,
    pageVisible: true,
    notice: undefined,
  };
}

export function emptyRoom(roomId: string, membership: RoomMembership): RoomView {
  return {
    roomId,
    membership,
    name: "",
    topic: "",
    joinRule: undefined,
    kind: undefined,
    role: "member",
    permissions: undefined,
    joinedMembers: undefined,
    invitedBy: undefined,
    events: [],
    readThrough: 0,
    unread: 0,
    historyComplete: false,
  };
}

function withRoom(state: ChatState, room: RoomView): ChatState {
  return { ...state, rooms: { ...state.rooms, [room.roomId]: room } };
}

/** Recounts unread messages; an open room is read as it grows. */
function recount(state: ChatState, room: RoomView): RoomView {
  const reading = state.pageVisible && state.activeRoomId === room.roomId;
  const readThrough = reading ? advancedMarker(room.readThrough, room.events) : room.readThrough;
  return { ...room, readThrough, unread: unreadCount(room.events, readThrough, state.userId) };
}

/** Changes to a room's fields that a room-change event implies. */
function applyChange(room: RoomView, event: HistoryEvent, userId: string): RoomView {
  if (event.type !== "room-change") return room;
  const { action, actor } = event;
  switch (action.type) {
    case "set-name":
      return { ...room, name: action.name };
    case "set-topic":
      return { ...room, topic: action.topic };
    case "set-join-rule":
      return { ...room, joinRule: action.joinRule };
    case "set-role":
      return action.target === userId ? { ...room, role: action.role } : room;
    case "join":
      return actor.type === "user" && actor.user === userId
        ? { ...room, membership: "joined" }
        : room;
    default:
      return room;
  }
}

/** Adds events to their rooms (a room not yet known is added as joined). */
export function addEvents(state: ChatState, events: readonly HistoryEvent[]): ChatState {
  let next = state;
  const byRoom = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    const list = byRoom.get(event.roomId) ?? [];
    list.push(event);
    byRoom.set(event.roomId, list);
  }
  for (const [roomId, roomEvents] of byRoom) {
    let room = next.rooms[roomId] ?? emptyRoom(roomId, "joined");
    const known = newestSequence(room.events);
    for (const event of roomEvents) {
      // Only events newer than what is held change the room's fields now.
      if (event.sequence > known) room = applyChange(room, event, next.userId);
    }
    const merged = mergeTimeline(room.events, roomEvents);
    room = {
      ...room,
      events: merged,
      historyComplete: room.historyComplete || merged[0]?.sequence === 1,
    };
    next = withRoom(next, recount(next, room));
  }
  const shown = new Set(
    events.flatMap((event) =>
      event.type === "message" && event.fromThisDevice
        ? [`${event.roomId}\0${event.clientId}`]
        : [],
    ),
  );
  if (shown.size > 0) {
    next = {
      ...next,
      pending: next.pending.filter((item) => !shown.has(`${item.roomId}\0${item.clientId}`)),
    };
  }
  return next;
}

export function setActiveRoom(state: ChatState, roomId: string | undefined): ChatState {
  const next = { ...state, activeRoomId: roomId };
  const room = roomId === undefined ? undefined : state.rooms[roomId];
  return room === undefined ? next : withRoom(next, recount(next, room));
}

export function setPageVisible(state: ChatState, pageVisible: boolean): ChatState {
  return setActiveRoom({ ...state, pageVisible }, state.activeRoomId);
}

export function updateRoom(
  state: ChatState,
  roomId: string,
  change: (room: RoomView) => RoomView,
  membership: RoomMembership = "joined",
): ChatState {
  const room = change(state.rooms[roomId] ?? emptyRoom(roomId, membership));
  return withRoom(state, recount(state, room));
}

export function removeRoom(state: ChatState, roomId: string): ChatState {
  const { [roomId]: _removed, ...rooms } = state.rooms;
  return {
    ...state,
    rooms,
    activeRoomId: state.activeRoomId === roomId ? undefined : state.activeRoomId,
    pending: state.pending.filter((item) => item.roomId !== roomId),
  };
}

/** Rooms for the list: invitations first, then by latest activity. */
export function sortedRooms(state: ChatState): RoomView[] {
  const activity = (room: RoomView) => room.events.at(-1)?.acceptedAtMs ?? 0;
  return Object.values(state.rooms).sort((left, right) => {
    const leftInvited = left.membership === "invited" ? 0 : 1;
    const rightInvited = right.membership === "invited" ? 0 : 1;
    if (leftInvited !== rightInvited) return leftInvited - rightInvited;
    return activity(right) - activity(left) || left.roomId.localeCompare(right.roomId);
  });
}

/** The name to show for a room: its name, else its id. */
export function roomTitle(room: RoomView): string {
  return room.name === "" ? room.roomId : room.name;
}
