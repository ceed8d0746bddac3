// The operator's credential for the admin API: a random token in a file in
// the data directory, made on first start with permissions 0600, the way
// Jupyter and many daemons hand a local operator its first credential.
// Whoever can read the data directory can already read the database, so the
// file adds no new way in; the server keeps only its SHA-256 in memory and
// compares in constant time. Rotating it: delete the file and restart.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const adminTokenFileName = "admin-token";

/** 32 random bytes as base64url, the same shape as access tokens. */
const adminTokenPattern = /^[A-Za-z0-9_-]{43}$/;

export interface AdminCredential {
  /** Where the token is kept, printed at start-up so the operator can find it. */
  readonly path: string;
  /** Whether `token` is the admin token, in constant time. */
  matches(token: string): boolean;
}

function digest(text: string): Buffer {
  return createHash("sha256").update("parley admin token\0").update(text, "utf8").digest();
}

export function adminCredentialOf(path: string, token: string): AdminCredential {
  const expected = digest(token);
  return { path, matches: (offered) => timingSafeEqual(digest(offered), expected) };
}

/** Reads the data directory's admin token, making it first if there is none. */
export async function loadOrCreateAdminToken(dataDirectory: string): Promise<AdminCredential> {
  const path = join(dataDirectory, adminTokenFileName);
  const fresh = randomBytes(32).toString("base64url");
  try {
    // `wx` fails if the file exists, so two processes starting together keep one token.
    await writeFile(path, `${fresh}\n`, { flag: "wx", mode: 0o600 });
    return adminCredentialOf(path, fresh);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stored = (await readFile(path, "utf8")).trim();
  if (!adminTokenPattern.test(stored)) {
    throw new Error(`${path} does not hold an admin token; delete it to make a new one`);
  }
  return adminCredentialOf(path, stored);
}
