// Creating a room: name, topic, who may join, and (once MLS is wired into
// the homeserver) end-to-end encryption.

import type { JoinRule } from "@parley/room";
import { type FormEvent, useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";
import { Dialog, DialogFooter } from "./Dialog.tsx";

interface CreateRoomDialogProps {
  readonly model: ChatModel;
  readonly onClose: () => void;
  readonly onCreated: (roomId: string) => void;
}

export function CreateRoomDialog({ model, onClose, onCreated }: CreateRoomDialogProps) {
  const [name, setName] = useState("");
  const [topic, setTopic] = useState("");
  const [joinRule, setJoinRule] = useState<JoinRule>("invite");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await model.createRoom({ name: name.trim(), topic: topic.trim(), joinRule }));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  }

  return (
    <Dialog title="New room" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Name
          <input
            name="roomName"
            required
            maxLength={255}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label>
          Topic <span className="muted">(optional)</span>
          <input
            name="roomTopic"
            maxLength={4096}
            value={topic}
            onChange={(event) => setTopic(event.target.value)}
          />
        </label>
        <fieldset>
          <legend>Who may join</legend>
          <label className="choice">
            <input
              type="radio"
              name="joinRule"
              checked={joinRule === "invite"}
              onChange={() => setJoinRule("invite")}
            />
            Only people invited
          </label>
          <label className="choice">
            <input
              type="radio"
              name="joinRule"
              checked={joinRule === "open"}
              onChange={() => setJoinRule("open")}
            />
            Anyone with the room's id
          </label>
        </fieldset>
        <label
          className="choice disabled"
          title="End-to-end encrypted rooms arrive with MLS support on the server."
        >
          <input type="checkbox" disabled />
          End-to-end encrypted (coming soon)
        </label>
        <DialogFooter
          error={error}
          onCancel={onClose}
          submitLabel="Create room"
          busyLabel="Creating…"
          busy={busy}
          submitDisabled={name.trim() === ""}
        />
      </form>
    </Dialog>
  );
}
