// Entering an open room by its id (rooms that need an invitation refuse, in words).

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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onJoined(await model.join(roomId));
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
        <p className="muted small">Open rooms let anyone in; others need an invitation.</p>
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
