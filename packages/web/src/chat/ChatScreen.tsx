// The signed-in screen: the room list beside the open room (on a phone, one
// at a time), the connection banner, and the dialogs. The open room is part
// of the address (/rooms/<id>), so reload and the back button keep it.

import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import { DevicesDialog } from "../account/DevicesDialog.tsx";
import { CreateRoomDialog } from "../rooms/CreateRoomDialog.tsx";
import { JoinRoomDialog } from "../rooms/JoinRoomDialog.tsx";
import { RoomList } from "../rooms/RoomList.tsx";
import { RoomView } from "../rooms/RoomView.tsx";
import { ConnectionBanner } from "./ConnectionBanner.tsx";
import type { ChatModel } from "./chat-model.ts";
import { sortedRooms } from "./chat-state.ts";

const roomPathPrefix = "/rooms/";

function roomIdFromPath(): string | undefined {
  const path = window.location.pathname;
  if (!path.startsWith(roomPathPrefix)) return undefined;
  const roomId = decodeURIComponent(path.slice(roomPathPrefix.length));
  return roomId === "" ? undefined : roomId;
}

interface ChatScreenProps {
  readonly model: ChatModel;
  readonly onSignedOut: () => void;
}

export function ChatScreen({ model, onSignedOut }: ChatScreenProps) {
  const state = useSyncExternalStore(model.subscribe, model.snapshot);
  const [dialog, setDialog] = useState<"create" | "join" | "devices" | undefined>();

  const open = useCallback(
    (roomId: string | undefined, how: "push" | "replace" | "none" = "push") => {
      const path = roomId === undefined ? "/" : `${roomPathPrefix}${encodeURIComponent(roomId)}`;
      if (how === "push" && window.location.pathname !== path)
        window.history.pushState(null, "", path);
      if (how === "replace") window.history.replaceState(null, "", path);
      model.openRoom(roomId);
    },
    [model],
  );

  useEffect(() => {
    open(roomIdFromPath(), "none");
    const onPopState = () => open(roomIdFromPath(), "none");
    window.addEventListener("popstate", onPopState);
    return () => window.removeEventListener("popstate", onPopState);
  }, [open]);

  // An open room marks what arrives as read only while the page is visible.
  useEffect(() => {
    const onVisibility = () => model.pageVisibility(!document.hidden);
    onVisibility();
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, [model]);

  const active = state.activeRoomId === undefined ? undefined : state.rooms[state.activeRoomId];
  const totalUnread = Object.values(state.rooms).reduce((sum, room) => sum + room.unread, 0);
  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Parley` : "Parley";
  }, [totalUnread]);

  async function signOut() {
    await model.signOut();
    window.history.replaceState(null, "", "/");
    onSignedOut();
  }

  return (
    <div className={active === undefined ? "chat" : "chat room-open"}>
      <aside className="sidebar">
        <header className="sidebar-header">
          <div className="me">
            <span className="brand small">Parley</span>
            <span className="muted small" title={model.client.deviceId}>
              {state.userId}
            </span>
          </div>
          <button type="button" className="quiet" onClick={() => setDialog("devices")}>
            Devices
          </button>
          <button type="button" className="quiet" onClick={signOut}>
            Sign out
          </button>
        </header>
        <ConnectionBanner
          connection={state.connection}
          onReconnect={() => {
            // Syncs the room list again too, in case the first start failed.
            model.start().catch(() => undefined);
          }}
        />
        <div className="sidebar-actions row">
          <button type="button" className="primary grow" onClick={() => setDialog("create")}>
            New room
          </button>
          <button type="button" onClick={() => setDialog("join")}>
            Join
          </button>
        </div>
        <RoomList
          rooms={sortedRooms(state)}
          activeRoomId={state.activeRoomId}
          onOpen={(roomId) => open(roomId)}
        />
      </aside>
      <main className="room-pane">
        {state.notice !== undefined && (
          <div className="notice" role="alert">
            <span>{state.notice}</span>
            <button type="button" className="quiet" onClick={() => model.dismissNotice()}>
              Dismiss
            </button>
          </div>
        )}
        {active === undefined ? (
          <div className="empty-pane">
            <p>Choose a room, or create one.</p>
          </div>
        ) : (
          <RoomView
            key={active.roomId}
            model={model}
            state={state}
            room={active}
            onBack={() => open(undefined)}
          />
        )}
      </main>
      {dialog === "devices" && (
        <DevicesDialog client={model.client} onClose={() => setDialog(undefined)} />
      )}
      {dialog === "create" && (
        <CreateRoomDialog
          model={model}
          onClose={() => setDialog(undefined)}
          onCreated={(roomId) => {
            setDialog(undefined);
            open(roomId);
          }}
        />
      )}
      {dialog === "join" && (
        <JoinRoomDialog
          model={model}
          onClose={() => setDialog(undefined)}
          onJoined={(roomId) => {
            setDialog(undefined);
            open(roomId);
          }}
        />
      )}
    </div>
  );
}
