// Creating a room: name, topic, who may join, and whether it is end-to-end
// encrypted (MLS: the servers carry only ciphertext; chosen once, at creation).

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
  const [encrypted, setEncrypted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onCreated(
        await model.createRoom({
          name: name.trim(),
          topic: topic.trim(),
          joinRule,
          kind: encrypted ? "encrypted" : "plain",
        }),
      );
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
        <fieldset>
          <legend>Encryption</legend>
          <label className="choice">
            <input
              type="radio"
              name="roomKind"
              value="encrypted"
              checked={encrypted}
              onChange={() => setEncrypted(true)}
            />
            End-to-end encrypted: only the members' devices can read messages
          </label>
          <label className="choice">
            <input
              type="radio"
              name="roomKind"
              value="plain"
              checked={!encrypted}
              onChange={() => setEncrypted(false)}
            />
            Plain: the servers can read messages (and show history to people who join later)
          </label>
        </fieldset>
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
