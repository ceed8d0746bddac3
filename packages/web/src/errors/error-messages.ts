// Turns the errors the SDK throws into sentences a person understands. The
// server's codes come from one table (docs/protocol.md ch. 7), and refusals by
// a room's rules also carry the room's own code (§10.5), which says far more
// ("you are banned from this room" rather than "forbidden"); what the user was
// doing decides between the remaining readings (a `conflict` while signing up
// is a taken name, while inviting it is someone already in the room).

import { type ErrorCode, isErrorCode } from "@parley/protocol";

/** What the user was doing when the error happened. */
export type UserTask =
  | "register"
  | "login"
  | "restore"
  | "create-room"
  | "room-action"
  | "invite"
  | "join"
  | "send"
  | "load";

const roomMessages: Readonly<Record<string, string>> = {
  room_not_created: "This room does not exist.",
  room_already_created: "This room already exists.",
  already_member: "That person is already in this room or already invited.",
  invalid_membership_change:
    "That change of membership is not possible in the room's current state.",
  last_admin:
    "You are the last admin of this room. Make someone else an admin first, or remove everyone else.",
  acl_locks_out_actor: "That server rule would lock out your own server.",
  acl_denies_sponsor: "That server rule would lock out a server that hosts this room.",
  forbidden: "Your role in this room does not allow that.",
  not_member: "You are not a member of this room.",
  banned: "You are banned from this room.",
  not_invited: "This room is invite-only: you need an invitation to join.",
  server_denied: "This room does not accept users from that server.",
  not_sponsor: "Only a server hosting this room may do that.",
  sponsor_limit_reached: "This room has reached its limit of hosting servers.",
  members_limit_reached: "This room is full.",
  invalid_entry: "The room refused that change as invalid.",
};

const internalMessage =
  "Something went wrong on the server. Try again; if it keeps happening, tell its admin.";
const unreachableMessage =
  "The server cannot be reached right now. Check the connection and try again.";

const encryptionTrouble =
  "This device could not handle the room's encryption. Reload the page; if it keeps happening, leave and join the room again.";

/** One sentence per code of the table (a test holds it to every code). */
const codeMessages: Readonly<Record<ErrorCode, string>> = {
  bad_encoding: "The server could not read the request. Reloading the page may help.",
  payload_too_large: "That is too long to send.",
  bad_structure: "Something in the request is not valid.",
  bad_server_name: "That server name is not valid.",
  bad_user_id: "That user id is not valid. User ids look like name@server.example.",
  bad_room_id: "That room id is not valid. Room ids start with ! and have 22 letters or digits.",
  bad_device_id: "That device id is not valid.",
  bad_content_id: "That content id is not valid.",
  bad_public_key: "A key in the request is not valid. Reloading the page may help.",
  bad_federation_endpoint: "That server publishes an address that cannot be used.",
  server_key_unknown: "A server's key is not known here yet. Try again in a moment.",
  server_key_not_valid: "A server's key was not valid at that time.",
  server_mismatch: "That belongs to another server than the one asked.",
  key_continuity_broken:
    "A server's keys changed in a way that cannot be trusted. Tell your server's admin.",
  signature_invalid: "A signature did not check out. Reloading the page may help.",
  record_expired: "Your device's record expired. Check this device's clock, then sign in again.",
  record_not_yet_valid:
    "Your device's record is not valid yet. Check this device's clock, then sign in again.",
  record_replayed: "This device's sign-in record is older than one the server has. Sign in again.",
  device_revoked: "This device was signed out for good. Sign in again to use it.",
  user_mismatch: "This device already belongs to another account. Sign out and sign in again.",
  timestamp_in_future: "This device's clock is ahead. Correct it and try again.",
  certificate_invalid:
    "The room's servers have not confirmed that change yet. Try again in a moment.",
  unauthorized: "Your session has ended. Sign in again.",
  forbidden: "You are not allowed to do that.",
  not_found: "That does not exist (any more).",
  conflict: "That clashes with a change made meanwhile. Try again.",
  rate_limited: "Too many requests. Wait a moment and try again.",
  capacity_exceeded: "The server has reached one of its limits. Try again later.",
  unavailable: unreachableMessage,
  mls_malformed: encryptionTrouble,
  mls_wrong_group: encryptionTrouble,
  mls_rule_violation: "The room's rules do not allow that change of its encryption.",
  mls_key_package_invalid:
    "A device of that person could not be added to the encryption. They may need to sign in again.",
  mls_authentication_failed: "An encrypted message did not check out and was not shown.",
  mls_replayed: "An encrypted message arrived twice or too late and was not shown.",
  mls_epoch_too_old: "An encrypted message is too old to be read on this device.",
  mls_epoch_in_future: "An encrypted message is newer than this device's keys. Wait a moment.",
  mls_stale_epoch: "Someone changed the room's encryption at the same time. Try again.",
  mls_generation_too_far: "An encrypted message is too far ahead to be read on this device.",
  mls_not_member:
    "This device is not part of the room's encryption. Leave and join the room again.",
  mls_unapplied_proposals: "The room's encryption is being changed. Try again in a moment.",
  mls_commit_unprocessable: encryptionTrouble,
  mls_own_commit: encryptionTrouble,
  mls_sealed_state_invalid:
    "This device's saved encryption keys cannot be opened. Sign out and sign in again.",
  mls_internal: encryptionTrouble,
  invalid_argument: "Something went wrong in this page. Reload it and try again.",
  internal: internalMessage,
};

/** Readings that depend on the task: [task, code] → sentence. */
function taskMessage(task: UserTask | undefined, code: ErrorCode): string | undefined {
  if (task === "register") {
    if (code === "conflict") return "That user name is taken. Choose another one.";
    if (code === "forbidden") {
      return "This server does not accept new accounts without a valid invitation code.";
    }
    if (code === "bad_user_id") {
      return "User names start with a lower-case letter or digit and may use a-z 0-9 . _ - (at most 64).";
    }
    if (code === "bad_structure")
      return "Check the fields: the password needs 8 characters or more.";
  }
  if (task === "login" && code === "unauthorized") return "Wrong user name or password.";
  if (task === "restore" && code === "unauthorized") {
    return "Your saved session is no longer valid. Sign in again.";
  }
  if (task === "invite" && code === "not_found") return "There is no such room.";
  if (task === "join" && code === "not_found") {
    return "This server does not know that room. If it is on another server, name that server under “Through server”.";
  }
  if (task === "join" && code === "unavailable") {
    return "None of the servers you named let this server reach the room in time. Check the server name, and that the room is open to anyone.";
  }
  if (task === "send" && code === "bad_structure")
    return "This message cannot be sent to this room.";
  return undefined;
}

function fieldOf(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

/** An error whose message is already a sentence for the user; its cause is the SDK's error. */
export class UserFacingError extends Error {}

/** The table code of an error, or of the SDK error behind a UserFacingError. */
export function errorCode(error: unknown): ErrorCode | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = fieldOf(error, "code");
  if (isErrorCode(code)) return code;
  return error instanceof UserFacingError ? errorCode(error.cause) : undefined;
}

/** A sentence for the user; never a stack trace or an internal detail. */
export function describeError(error: unknown, task?: UserTask): string {
  if (error instanceof UserFacingError) return error.message;
  if (typeof error !== "object" || error === null) return internalMessage;
  const code = fieldOf(error, "code");
  if (!isErrorCode(code)) {
    // fetch rejects with a TypeError when the network fails.
    return error instanceof TypeError
      ? unreachableMessage
      : "Something went wrong in this page. Reload it and try again.";
  }
  const roomCode = fieldOf(error, "roomCode");
  const roomMessage = typeof roomCode === "string" ? roomMessages[roomCode] : undefined;
  if (roomMessage !== undefined) return roomMessage;
  const retryAfterMs = fieldOf(error, "retryAfterMs");
  if (code === "rate_limited" && typeof retryAfterMs === "number") {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return `Too many requests. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
  }
  return taskMessage(task, code) ?? codeMessages[code] ?? internalMessage;
}
