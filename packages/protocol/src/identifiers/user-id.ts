import { ParleyError } from "../errors/parley-error.ts";
import { userLocalPartBytesMax } from "../limits.ts";
import { isServerName, type ServerName } from "./server-name.ts";

declare const userIdBrand: unique symbol;

/** `local@server`, e.g. `alice@example.org`: a user on their homeserver. */
export type UserId = string & { readonly [userIdBrand]: true };

export interface UserIdParts {
  readonly localPart: string;
  readonly server: ServerName;
}

/**
 * The local part: 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter
 * or digit. Lower case only, so ids compare as plain strings and survive the
 * IRC gateway and terminals; no "@" or ":" so the split is unambiguous.
 */
const localPartPattern = /^[a-z0-9][a-z0-9._-]*$/;

export function isUserLocalPart(text: string): boolean {
  return text.length <= userLocalPartBytesMax && localPartPattern.test(text);
}

/** Parses `local@server`; throws `bad_user_id` with the reason otherwise. */
export function parseUserId(text: string): UserId {
  userIdParts(text);
  return text as UserId;
}

export function isUserId(text: string): text is UserId {
  try {
    userIdParts(text);
    return true;
  } catch {
    return false;
  }
}

/** Splits at the first "@" (the local part has none) and checks both halves. */
export function userIdParts(text: string): UserIdParts {
  const at = text.indexOf("@");
  if (at === -1) invalid(text, 'it has no "@"');
  const localPart = text.slice(0, at);
  const server = text.slice(at + 1);
  if (!isUserLocalPart(localPart)) {
    invalid(
      text,
      `the local part must be 1-${userLocalPartBytesMax} of a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  if (!isServerName(server)) invalid(text, "the part after @ is not a canonical server name");
  return { localPart, server };
}

export function makeUserId(localPart: string, server: ServerName): UserId {
  return parseUserId(`${localPart}@${server}`);
}

export function serverOfUser(userId: UserId): ServerName {
  return userIdParts(userId).server;
}

function invalid(text: string, reason: string): never {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  throw new ParleyError("bad_user_id", `"${shown}" is not a user id: ${reason}`);
}
