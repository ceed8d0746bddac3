// A room's details beside its timeline: invite someone, the members with
// their roles, and — for those whose role allows — the room's settings,
// role changes, removing and banning. The server checks every action again;
// the page only hides what would certainly be refused.

import type { Member } from "@parley/client";
import {
  defaultPermissions,
  isAtLeast,
  type JoinRule,
  type Permissions,
  type Role,
  roles,
} from "@parley/room";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";
import type { RoomView } from "../chat/chat-state.ts";
import { RoomSettings } from "./RoomSettings.tsx";

interface RoomInfoProps {
  readonly model: ChatModel;
  readonly room: RoomView;
  readonly userId: string;
  readonly onClose: () => void;
  readonly onLeft: () => void;
}

const membershipWords: Record<string, string> = {
  joined: "",
  invited: "invited",
  knocking: "asks to join",
  banned: "banned",
  left: "left",
};

export function RoomInfo({ model, room, userId, onClose, onLeft }: RoomInfoProps) {
  const [members, setMembers] = useState<readonly Member[]>([]);
  const [invitee, setInvitee] = useState("");
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>();
  const permissions: Permissions = room.permissions ?? defaultPermissions;
  const may = (permission: keyof Permissions) => isAtLeast(room.role, permissions[permission]);
  const rank = (role: Role) => roles.indexOf(role);

  const reload = useCallback(() => {
    model
      .members(room.roomId)
      .then(setMembers, (error: unknown) =>
        setMessage({ text: error instanceof Error ? error.message : String(error), error: true }),
      );
  }, [model, room.roomId]);
  // Membership and roles change with room events: reload when the timeline grows.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the event count is the trigger.
  useEffect(reload, [reload, room.events.length]);

  async function run(work: () => Promise<void>, done: string) {
    setMessage(undefined);
    try {
      await work();
      setMessage({ text: done, error: false });
      reload();
    } catch (failure) {
      setMessage({
        text: failure instanceof Error ? failure.message : String(failure),
        error: true,
      });
    }
  }

  function invite(event: FormEvent) {
    event.preventDefault();
    const target = invitee.trim();
    run(async () => {
      await model.invite(room.roomId, target);
      setInvitee("");
    }, `Invited ${target}.`).catch(() => undefined);
  }

  const act = (work: () => Promise<void>, done: string) => run(work, done).catch(() => undefined);

  return (
    <aside className="room-info" aria-label="Room details">
      <header className="room-info-header">
        <h3>Details</h3>
        <button type="button" className="quiet" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      {message !== undefined && (
        <p className={message.error ? "error-text small" : "ok-text small"} role="status">
          {message.text}
        </p>
      )}
      <section>
        <p className="muted small">
          {room.kind === "encrypted"
            ? "End-to-end encrypted"
            : "Not encrypted; every message is signed"}{" "}
          · {room.joinRule === "open" ? "anyone may join" : "invite only"}
        </p>
        <p className="muted small selectable">Room id: {room.roomId}</p>
      </section>
      {may("invite") && (
        <form className="stack" onSubmit={invite}>
          <label>
            Invite by user id
            <input
              name="invitee"
              placeholder="name@server.example"
              autoCapitalize="none"
              spellCheck={false}
              value={invitee}
              onChange={(event) => setInvitee(event.target.value)}
            />
          </label>
          <button type="submit" className="primary" disabled={invitee.trim() === ""}>
            Invite
          </button>
        </form>
      )}
      <section>
        <h4>Members</h4>
        <ul className="members">
          {members.map((member) => {
            const self = member.userId === userId;
            const above = rank(room.role) > rank(member.role);
            const canChangeRole =
              !self && may("setRoles") && above && member.membership === "joined";
            const canRemove =
              !self && above && ["joined", "invited", "knocking"].includes(member.membership);
            return (
              <li key={member.userId} className="member" data-member={member.userId}>
                <span className="member-id">
                  {member.userId}
                  {self && <span className="muted"> (you)</span>}
                </span>
                <span className="member-state muted small">
                  {membershipWords[member.membership] ?? member.membership}
                  {member.membership === "joined" && member.role !== "member" ? member.role : ""}
                </span>
                <span className="member-actions">
                  {canChangeRole && (
                    <select
                      aria-label={`Role of ${member.userId}`}
                      value={member.role}
                      onChange={(event) => {
                        const role = event.target.value as Role;
                        act(
                          () =>
                            model.act(room.roomId, {
                              type: "set-role",
                              target: member.userId,
                              role,
                            }),
                          `${member.userId} is now ${role === "member" ? "a member" : `a ${role}`}.`,
                        );
                      }}
                    >
                      {roles
                        .filter((role) => rank(role) <= rank(room.role))
                        .map((role) => (
                          <option key={role} value={role}>
                            {role}
                          </option>
                        ))}
                    </select>
                  )}
                  {canRemove && may("kick") && (
                    <button
                      type="button"
                      className="quiet small"
                      onClick={() =>
                        act(
                          () =>
                            model.act(room.roomId, {
                              type: "kick",
                              target: member.userId,
                              reason: "",
                            }),
                          `Removed ${member.userId}.`,
                        )
                      }
                    >
                      Remove
                    </button>
                  )}
                  {!self && above && may("ban") && member.membership !== "banned" && (
                    <button
                      type="button"
                      className="quiet small danger"
                      onClick={() =>
                        act(
                          () =>
                            model.act(room.roomId, {
                              type: "ban",
                              target: member.userId,
                              reason: "",
                            }),
                          `Banned ${member.userId}.`,
                        )
                      }
                    >
                      Ban
                    </button>
                  )}
                  {member.membership === "banned" && may("ban") && (
                    <button
                      type="button"
                      className="quiet small"
                      onClick={() =>
                        act(
                          () => model.act(room.roomId, { type: "unban", target: member.userId }),
                          `Lifted the ban on ${member.userId}.`,
                        )
                      }
                    >
                      Unban
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
      </section>
      {(may("setName") || may("setTopic") || may("setJoinRule")) && (
        <RoomSettings
          room={room}
          canName={may("setName")}
          canTopic={may("setTopic")}
          canJoinRule={may("setJoinRule")}
          onSave={(changes: { name?: string; topic?: string; joinRule?: JoinRule }) =>
            act(async () => {
              if (changes.name !== undefined)
                await model.act(room.roomId, { type: "set-name", name: changes.name });
              if (changes.topic !== undefined)
                await model.act(room.roomId, { type: "set-topic", topic: changes.topic });
              if (changes.joinRule !== undefined) {
                await model.act(room.roomId, { type: "set-join-rule", joinRule: changes.joinRule });
              }
            }, "Settings saved.")
          }
        />
      )}
      <section>
        <button
          type="button"
          className="danger wide"
          onClick={() =>
            act(async () => {
              await model.leave(room.roomId);
              onLeft();
            }, "You left the room.")
          }
        >
          Leave room
        </button>
      </section>
    </aside>
  );
}
