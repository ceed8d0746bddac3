// Bearer tokens and challenges: 32 random bytes, shown to the client once as
// base64url; the server keeps only the SHA-256 of a token, so a copy of the
// database does not hold working credentials.

import { createHash, randomBytes } from "node:crypto";

const tokenBytes = 32;

/** A new bearer token (43 base64url characters). */
export function newToken(): string {
  return randomBytes(tokenBytes).toString("base64url");
}

export function newChallenge(): Uint8Array {
  return new Uint8Array(randomBytes(tokenBytes));
}

/** What storage keeps for a token. */
export function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

/** Invite tokens are hashed the same way, under their own label. */
export function inviteTokenHash(token: string): Uint8Array {
  return new Uint8Array(
    createHash("sha256").update("parley invite token\0").update(token, "utf8").digest(),
  );
}
