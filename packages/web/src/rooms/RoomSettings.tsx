// The room's name, topic and join rule, for members whose role may change them.

import type { JoinRule } from "@parley/room";
import { type FormEvent, useState } from "react";
import type { RoomView } from "../chat/chat-state.ts";

export interface SettingsChanges {
  name?: string;
  topic?: string;
  joinRule?: JoinRule;
}

interface RoomSettingsProps {
  readonly room: RoomView;
  readonly canName: boolean;
  readonly canTopic: boolean;
  readonly canJoinRule: boolean;
  readonly onSave: (changes: SettingsChanges) => void;
}

export function RoomSettings({ room, canName, canTopic, canJoinRule, onSave }: RoomSettingsProps) {
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic);
  const [joinRule, setJoinRule] = useState<JoinRule>(room.joinRule ?? "invite");

  function submit(event: FormEvent) {
    event.preventDefault();
    const changes: SettingsChanges = {};
    if (canName && name.trim() !== room.name) changes.name = name.trim();
    if (canTopic && topic.trim() !== room.topic) changes.topic = topic.trim();
    if (canJoinRule && joinRule !== room.joinRule) changes.joinRule = joinRule;
    onSave(changes);
  }

  return (
    <form className="stack settings" onSubmit={submit}>
      <h4>Settings</h4>
      {canName && (
        <label>
          Name
          <input
            name="settingsName"
            maxLength={255}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
      )}
      {canTopic && (
        <label>
          Topic
          <textarea
            name="settingsTopic"
            rows={2}
            maxLength={4096}
            value={topic}
            onChange={(event) => setTopic(event.target.value)}
          />
        </label>
      )}
      {canJoinRule && (
        <label>
          Who may join
          <select
            value={joinRule}
            onChange={(event) => setJoinRule(event.target.value as JoinRule)}
          >
            <option value="invite">Only people invited</option>
            <option value="open">Anyone with the room's id</option>
            <option value="knock">Anyone may ask; members let them in</option>
          </select>
        </label>
      )}
      <button type="submit" className="primary">
        Save settings
      </button>
    </form>
  );
}
