import type { HistoryEvent, RoomMessageEvent } from "@parley/client";
import type { DeviceId, RoomId, UserId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import {
  addEvents,
  initialChatState,
  removeRoom,
  setActiveRoom,
  setPageVisible,
  sortedRooms,
  updateRoom,
} from "./chat-state.ts";

const me = "alice@a";
const roomId = "!AAAAAAAAAAAAAAAAAAAAAA" as RoomId;
const otherRoomId = "!BBBBBBBBBBBBBBBBBBBBBB" as RoomId;

function message(
  room: RoomId,
  sequence: number,
  sender: string,
  clientId = `c${sequence}`,
): RoomMessageEvent {
  return {
    type: "message",
    roomId: room,
    sequence,
    position: sequence,
    acceptedAtMs: 1_000 * sequence,
    controlIndex: 1,
    sender: sender as UserId,
    deviceId: "device" as DeviceId,
    clientId,
    contentType: "text/plain",
    body: new Uint8Array(),
    text: `message ${sequence}`,
    sentAtMs: 1_000 * sequence,
    fromThisDevice: sender === me,
  };
}

function renamed(room: RoomId, sequence: number, name: string): HistoryEvent {
  return {
    type: "room-change",
    roomId: room,
    sequence,
    position: sequence,
    acceptedAtMs: 1_000 * sequence,
    controlIndex: sequence,
    actor: { type: "user", user: "bob@b" as UserId },
    action: { type: "set-name", name },
  };
}

describe("chat state", () => {
  it("counts messages by others in rooms not open, and reads the open room as it grows", () => {
    let state = initialChatState(me);
    state = addEvents(state, [message(roomId, 1, "bob@b"), message(roomId, 2, me)]);
    state = addEvents(state, [message(otherRoomId, 1, "bob@b")]);
    expect(state.rooms[roomId]?.unread).toBe(1);
    state = setActiveRoom(state, roomId);
    expect(state.rooms[roomId]?.unread).toBe(0);
    state = addEvents(state, [message(roomId, 3, "bob@b")]);
    expect(state.rooms[roomId]?.unread).toBe(0);
    expect(state.rooms[otherRoomId]?.unread).toBe(1);
  });

  it("does not count as read what arrives while the page is hidden", () => {
    let state = setActiveRoom(initialChatState(me), roomId);
    state = setPageVisible(state, false);
    state = addEvents(state, [message(roomId, 1, "bob@b")]);
    expect(state.rooms[roomId]?.unread).toBe(1);
    state = setPageVisible(state, true);
    expect(state.rooms[roomId]?.unread).toBe(0);
  });

  it("drops a pending message once its event is in the timeline", () => {
    let state = initialChatState(me);
    state = {
      ...state,
      pending: [{ roomId, clientId: "mine", text: "hi", createdAtMs: 5 }],
    };
    state = addEvents(state, [message(roomId, 1, "bob@b", "mine")]);
    expect(state.pending).toHaveLength(1);
    state = addEvents(state, [message(roomId, 2, me, "mine")]);
    expect(state.pending).toEqual([]);
  });

  it("applies a rename only when it is newer than what is held", () => {
    let state = addEvents(initialChatState(me), [renamed(roomId, 5, "new name")]);
    expect(state.rooms[roomId]?.name).toBe("new name");
    state = addEvents(state, [renamed(roomId, 2, "old name")]);
    expect(state.rooms[roomId]?.name).toBe("new name");
    expect(state.rooms[roomId]?.events.map((event) => event.sequence)).toEqual([2, 5]);
  });

  it("lists invitations first, then by latest activity; removing forgets the room", () => {
    let state = addEvents(initialChatState(me), [
      message(roomId, 1, "bob@b"),
      message(otherRoomId, 9, "bob@b"),
    ]);
    const invited = "!CCCCCCCCCCCCCCCCCCCCCC";
    state = updateRoom(state, invited, (room) => room, "invited");
    expect(sortedRooms(state).map((room) => room.roomId)).toEqual([invited, otherRoomId, roomId]);
    state = removeRoom(setActiveRoom(state, roomId), roomId);
    expect(state.rooms[roomId]).toBeUndefined();
    expect(state.activeRoomId).toBeUndefined();
  });
});
