// Entering an open room by its id (rooms that need an invitation refuse, in
// words). A room of another server that this server does not know yet is
// reached through a server the person names (`via`, docs/protocol.md §10.3).

import { type FormEvent, useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";
import { Dialog, DialogFooter } from "./Dialog.tsx";

interface JoinRoomDialogProps {
  readonly model: ChatModel;
  readonly onClose: () => void;
  readonly onJoined: (roomId: string) => void;
}

export function JoinRoomDialog({ model, onClose, onJoined }: JoinRoomDialogProps) {
  const [roomId, setRoomId] = useState("");
  const [via, setVia] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onJoined(await model.join(roomId, via));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Join a room" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Room id
          <input
            name="roomId"
            placeholder="!AbCdEfGhIjKlMnOpQrStUv"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={roomId}
            onChange={(event) => setRoomId(event.target.value)}
          />
        </label>
        <label>
          Through server (optional)
          <input
            name="via"
            placeholder="chat.example.org"
            autoCapitalize="none"
            spellCheck={false}
            value={via}
            onChange={(event) => setVia(event.target.value)}
          />
        </label>
        <p className="muted small">
          Open rooms let anyone in; others need an invitation. For a room of another server that
          nobody here has joined yet, name a server that hosts it.
        </p>
        <DialogFooter
          error={error}
          onCancel={onClose}
          submitLabel="Join"
          busyLabel="Joining…"
          busy={busy}
          submitDisabled={roomId.trim() === ""}
        />
      </form>
    </Dialog>
  );
}
