// One line of text for a change of room state in the timeline, in the words
// a member would use ("bob@b joined", "alice@a renamed the room to …").

import type { Actor, RoomAction } from "@parley/room";

function actorName(actor: Actor): string {
  return actor.type === "user" ? actor.user : `the server ${actor.server}`;
}

function withReason(text: string, reason: string): string {
  return reason === "" ? text : `${text}: ${reason}`;
}

export function describeRoomChange(actor: Actor, action: RoomAction): string {
  const who = actorName(actor);
  switch (action.type) {
    case "create":
      return `${who} created the room${action.name === "" ? "" : ` “${action.name}”`}`;
    case "invite":
      return `${who} invited ${action.target}`;
    case "join":
      return `${who} joined`;
    case "knock":
      return withReason(`${who} asked to join`, action.reason);
    case "leave":
      return `${who} left`;
    case "kick":
      return withReason(`${who} removed ${action.target}`, action.reason);
    case "ban":
      return withReason(`${who} banned ${action.target}`, action.reason);
    case "unban":
      return `${who} lifted the ban on ${action.target}`;
    case "set-name":
      return action.name === ""
        ? `${who} removed the room's name`
        : `${who} renamed the room to “${action.name}”`;
    case "set-topic":
      return action.topic === ""
        ? `${who} cleared the topic`
        : `${who} set the topic to “${action.topic}”`;
    case "set-join-rule":
      return `${who} made the room ${joinRuleWords[action.joinRule]}`;
    case "set-role":
      return `${who} made ${action.target} ${action.role === "member" ? "a member" : `a ${action.role}`}`;
    case "set-permissions":
      return `${who} changed who may do what`;
    case "set-server-acl":
      return `${who} changed which servers may take part`;
    case "set-sponsor-policy":
      return `${who} changed which servers host the room`;
    case "add-sponsor":
      return `${action.server} now hosts the room`;
    case "remove-sponsor":
      return `${action.server} no longer hosts the room`;
    case "mls-commit":
      return `${who} updated the room's encryption keys`;
  }
}

export const joinRuleWords = {
  invite: "invite-only",
  knock: "open to requests to join",
  open: "open to anyone",
} as const;
