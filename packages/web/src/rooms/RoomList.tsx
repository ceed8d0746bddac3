// The user's rooms: invitations first, then by latest activity, each with its
// unread count.

import type { RoomView } from "../chat/chat-state.ts";
import { roomTitle } from "../chat/chat-state.ts";
import { unreadBadge } from "./unread.ts";

interface RoomListProps {
  readonly rooms: readonly RoomView[];
  readonly activeRoomId: string | undefined;
  readonly onOpen: (roomId: string) => void;
}

function preview(room: RoomView): string {
  if (room.membership === "invited") {
    return room.invitedBy === undefined ? "Invitation" : `Invited by ${room.invitedBy}`;
  }
  const last = room.events.at(-1);
  if (last?.type === "message")
    return `${last.sender.split("@")[0]}: ${last.text ?? "(attachment)"}`;
  if (last?.type === "undecryptable") return `${last.sender.split("@")[0]}: (not decrypted)`;
  return room.topic;
}

export function RoomList({ rooms, activeRoomId, onOpen }: RoomListProps) {
  if (rooms.length === 0) {
    return (
      <p className="muted room-list-empty">No rooms yet. Create one, or wait for an invitation.</p>
    );
  }
  return (
    <nav className="room-list" aria-label="Rooms">
      {rooms.map((room) => {
        const badge = unreadBadge(room.unread);
        const classes = ["room-item"];
        if (room.roomId === activeRoomId) classes.push("active");
        if (room.membership === "invited") classes.push("invited");
        if (badge !== undefined) classes.push("has-unread");
        return (
          <button
            type="button"
            key={room.roomId}
            className={classes.join(" ")}
            onClick={() => onOpen(room.roomId)}
            data-room-id={room.roomId}
            aria-current={room.roomId === activeRoomId ? "page" : undefined}
          >
            <span className="avatar" aria-hidden="true">
              {roomTitle(room).replace(/^[!#]/, "").slice(0, 1).toUpperCase()}
            </span>
            <span className="room-item-text">
              <span className="room-item-name">{roomTitle(room)}</span>
              <span className="room-item-preview">{preview(room)}</span>
            </span>
            {room.kind === "encrypted" && (
              // A drawn padlock: emoji fonts are not everywhere.
              <svg className="lock" viewBox="0 0 16 16" role="img" aria-label="encrypted">
                <title>End-to-end encrypted</title>
                <rect x="3" y="7" width="10" height="8" rx="1.5" fill="currentColor" />
                <path
                  d="M5 7V5a3 3 0 0 1 6 0v2"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth="1.6"
                />
              </svg>
            )}
            {room.membership === "invited" && <span className="pill">Invited</span>}
            {badge !== undefined && (
              <span className="badge" data-unread={room.unread}>
                {badge}
                <span className="visually-hidden"> unread</span>
              </span>
            )}
          </button>
        );
      })}
    </nav>
  );
}
