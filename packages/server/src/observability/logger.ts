// Structured JSON logs through pino. Secrets never reach a log line: known
// secret-bearing fields are censored at any of the first three levels of a
// logged object, and request headers that carry credentials are dropped. Code
// should still not log secrets; this is the net under that rule.

import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "../config/load.ts";

/** Field names that carry secrets anywhere in the homeserver. */
const secretFields = [
  "password",
  "passwordHash",
  "token",
  "accessToken",
  "refreshToken",
  "inviteToken",
  "tokenHash",
  "secret",
  "secretSeed",
  "privateKey",
  "seed",
  "authorization",
  "cookie",
  "postgresUrl",
  "databaseUrl",
];

/** pino's redaction takes explicit paths; `*` matches one level. */
export const redactedPaths: readonly string[] = secretFields.flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

export const redactionCensor = "[redacted]";

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "parley-homeserver" },
    redact: { paths: [...redactedPaths], censor: redactionCensor },
    // Fastify's request serializer logs headers; credentials are removed there
    // too, by the redaction paths above (req.headers.authorization).
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type { Logger };
