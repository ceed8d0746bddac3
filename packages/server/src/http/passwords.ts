// Password hashing with argon2id. Unknown user names cost the same as known
// ones: a login for a missing account verifies against a dummy hash made at
// start, so response time does not reveal which names exist.

import argon2 from "argon2";
import { passwordMemoryKibibytes, passwordParallelism, passwordTimeCost } from "../limits.ts";

const options = {
  type: argon2.argon2id,
  memoryCost: passwordMemoryKibibytes,
  timeCost: passwordTimeCost,
  parallelism: passwordParallelism,
} as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True if `password` matches `storedHash`; with a null hash, does the same work and answers false. */
  verify(storedHash: string | null, password: string): Promise<boolean>;
}

export async function createPasswordHasher(): Promise<PasswordHasher> {
  const dummyHash = await argon2.hash("parley dummy password for unknown users", options);
  return {
    hash(password) {
      return argon2.hash(password, options);
    },
    async verify(storedHash, password) {
      try {
        const matches = await argon2.verify(storedHash ?? dummyHash, password);
        return storedHash !== null && matches;
      } catch {
        // A corrupt stored hash must not become a way in, nor a 500 that tells it apart.
        return false;
      }
    },
  };
}
