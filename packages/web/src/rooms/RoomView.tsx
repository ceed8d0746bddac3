// An open room: its header, then either the invitation to accept or the
// timeline and composer; the room's details slide in beside it.

import { useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";
import { type ChatState, type RoomView as Room, roomTitle } from "../chat/chat-state.ts";
import { Composer } from "../timeline/Composer.tsx";
import { Timeline } from "../timeline/Timeline.tsx";
import { RoomInfo } from "./RoomInfo.tsx";

interface RoomViewProps {
  readonly model: ChatModel;
  readonly state: ChatState;
  readonly room: Room;
  readonly onBack: () => void;
}

function Invitation({ model, room, onBack }: Omit<RoomViewProps, "state">) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="invitation">
      <h2>{roomTitle(room)}</h2>
      <p>
        {room.invitedBy === undefined
          ? "You are invited to this room."
          : `${room.invitedBy} invited you to this room.`}
      </p>
      {room.topic !== "" && <p className="muted">{room.topic}</p>}
      {error !== undefined && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={busy}
          onClick={() =>
            run(async () => {
              await model.join(room.roomId);
            })
          }
        >
          Accept
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(async () => {
              await model.leave(room.roomId);
              onBack();
            })
          }
        >
          Decline
        </button>
      </div>
    </div>
  );
}

export function RoomView({ model, state, room, onBack }: RoomViewProps) {
  const [showInfo, setShowInfo] = useState(false);
  return (
    <div className={showInfo ? "room with-info" : "room"}>
      <div className="room-main">
        <header className="room-header">
          <button type="button" className="quiet back" onClick={onBack} aria-label="Back to rooms">
            ←
          </button>
          <div className="room-header-text">
            <h2 className="room-name">
              {roomTitle(room)}
              {room.kind === "encrypted" && (
                <span
                  className="pill encrypted"
                  title="End-to-end encrypted: only the members' devices can read the messages"
                >
                  Encrypted
                </span>
              )}
            </h2>
            {room.topic !== "" && <p className="room-topic">{room.topic}</p>}
          </div>
          {room.membership === "joined" && (
            <button
              type="button"
              className="quiet"
              onClick={() => setShowInfo(!showInfo)}
              aria-expanded={showInfo}
            >
              {room.joinedMembers === undefined
                ? "Details"
                : `${room.joinedMembers} member${room.joinedMembers === 1 ? "" : "s"}`}
            </button>
          )}
        </header>
        {room.membership === "joined" ? (
          <>
            <Timeline model={model} state={state} room={room} />
            <Composer model={model} roomId={room.roomId} />
          </>
        ) : (
          <Invitation model={model} room={room} onBack={onBack} />
        )}
      </div>
      {showInfo && room.membership === "joined" && (
        <RoomInfo
          model={model}
          room={room}
          userId={state.userId}
          onClose={() => setShowInfo(false)}
          onLeft={onBack}
        />
      )}
    </div>
  );
}
