// Every homeserver setting, its default, and the schema that checks it. A
// setting comes from the TOML file (`[section] key = value`) and is overridden
// by the environment variable PARLEY_<SECTION>_<KEY> (upper case), so a
// container can be configured without a file. The README's table is this list.

import { z } from "zod";
import { parsePeerAddresses } from "../federation/discovery/peer-addresses.ts";
import {
  federationTickIntervalMsDefault,
  keyPackageClaimTimeoutMsDefault,
} from "../federation/limits.ts";
import {
  addressRequestsPerSecondDefault,
  authenticationAttemptsPerMinuteDefault,
  deviceQueueItemsDefault,
  deviceQueueItemsMax,
  deviceRequestsPerSecondDefault,
  inboxRetentionAgeMsDefault,
  inboxRetentionEventsDefault,
  keyPackageSweepIntervalMsDefault,
  keyPackageSweepIntervalMsMax,
  keyPackageSweepIntervalMsMin,
  postgresPoolSizeDefault,
  postgresPoolSizeMax,
} from "../limits.ts";

/** Environment values are text; a setting that wants an integer reads it from digits only. */
const integer = (minimum: number, maximum: number) =>
  z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value),
    z.number().int().min(minimum).max(maximum),
  );

const nonEmptyText = z.string().trim().min(1);

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const dayMs = 24 * 60 * 60 * 1000;

export const settingsSchema = z.strictObject({
  /** The homeserver's name in user ids (alice@name); defaults to localhost:<port>. */
  server_name: nonEmptyText.optional(),
  /** Where the SQLite file and other state live; relative to the working directory. */
  data_directory: nonEmptyText.default("./parley-data"),
  listen: z
    .strictObject({
      host: nonEmptyText.default("127.0.0.1"),
      /** 0 picks a free port (tests). */
      port: integer(0, 65_535).default(8008),
    })
    .prefault({}),
  database: z
    .strictObject({
      /** A postgres:// URL selects PostgreSQL; unset means embedded SQLite. */
      postgres_url: z
        .string()
        .trim()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
      postgres_schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, "lowercase letters, digits and underscores")
        .default("public"),
      postgres_pool_size: integer(1, postgresPoolSizeMax).default(postgresPoolSizeDefault),
      /** The SQLite file, relative to the data directory. */
      sqlite_file: nonEmptyText.default("parley.sqlite"),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(logLevels).default("info"),
    })
    .prefault({}),
  inbox: z
    .strictObject({
      /** Undelivered stream events older than this become a "missed" marker. */
      retention_days: integer(1, 3650).default(inboxRetentionAgeMsDefault / dayMs),
      /** At most this many stream events are replayed to a returning device. */
      retention_events: integer(1, 1_000_000).default(inboxRetentionEventsDefault),
      /** Per-device queue length (invites, welcomes, notices) before the oldest are dropped. */
      device_queue_items: integer(1, deviceQueueItemsMax).default(deviceQueueItemsDefault),
    })
    .prefault({}),
  key_packages: z
    .strictObject({
      /** How often KeyPackages whose lifetime ended are deleted, in milliseconds;
       * separate from the inbox sweep so an operator can tidy the larger table
       * more or less often without touching sessions and queues. */
      sweep_interval_ms: integer(
        keyPackageSweepIntervalMsMin,
        keyPackageSweepIntervalMsMax,
      ).default(keyPackageSweepIntervalMsDefault),
    })
    .prefault({}),
  registration: z
    .strictObject({
      /** open: anyone may register; invite-only: an invite token is needed; closed: nobody. */
      mode: z.enum(["open", "invite-only", "closed"]).default("open"),
    })
    .prefault({}),
  rate_limits: z
    .strictObject({
      /** Client API requests per second per device (bursts of twice this). */
      device_requests_per_second: integer(1, 1_000_000).default(deviceRequestsPerSecondDefault),
      /** Client API requests per second per remote address (bursts of twice this). */
      address_requests_per_second: integer(1, 1_000_000).default(addressRequestsPerSecondDefault),
      /** Password logins, registrations and session challenges per address per minute. */
      authentication_attempts_per_minute: integer(1, 1_000_000).default(
        authenticationAttemptsPerMinuteDefault,
      ),
    })
    .prefault({}),
  federation: z
    .strictObject({
      /** false: this server opens no links to other servers and accepts none. */
      enabled: z
        .preprocess(
          (value) => (value === "true" ? true : value === "false" ? false : value),
          z.boolean(),
        )
        .default(true),
      /** The federation core's tick in milliseconds (Raft timers count ticks). */
      tick_interval_ms: integer(10, 10_000).default(federationTickIntervalMsDefault),
      /** name=host:port entries: where to connect for those peers instead of where their names point. */
      peer_addresses: z
        .string()
        .trim()
        .default("")
        .superRefine((text, context) => {
          try {
            parsePeerAddresses(text);
          } catch (error) {
            context.addIssue({ code: "custom", message: (error as Error).message });
          }
        }),
      /** How long a KeyPackage claim to another server waits for its answer, in milliseconds. */
      key_package_claim_timeout_ms: integer(100, 120_000).default(keyPackageClaimTimeoutMsDefault),
    })
    .prefault({}),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Every setting as [section, key] (section null for top-level), for environment overrides. */
export const settingPaths: ReadonlyArray<readonly [string | null, string]> = [
  [null, "server_name"],
  [null, "data_directory"],
  ["listen", "host"],
  ["listen", "port"],
  ["database", "postgres_url"],
  ["database", "postgres_schema"],
  ["database", "postgres_pool_size"],
  ["database", "sqlite_file"],
  ["log", "level"],
  ["inbox", "retention_days"],
  ["inbox", "retention_events"],
  ["inbox", "device_queue_items"],
  ["key_packages", "sweep_interval_ms"],
  ["registration", "mode"],
  ["rate_limits", "device_requests_per_second"],
  ["rate_limits", "address_requests_per_second"],
  ["rate_limits", "authentication_attempts_per_minute"],
  ["federation", "enabled"],
  ["federation", "tick_interval_ms"],
  ["federation", "peer_addresses"],
  ["federation", "key_package_claim_timeout_ms"],
];

export function environmentVariableName(path: readonly [string | null, string]): string {
  const [section, key] = path;
  return `PARLEY_${section === null ? "" : `${section}_`}${key}`.toUpperCase();
}

export { dayMs };

/** One line per setting, for `parley server --help`; keyed like the TOML ("section.key"). */
export const settingDescriptions: Readonly<Record<string, string>> = {
  server_name: "the name in user ids (alice@NAME); defaults to localhost:<port>",
  data_directory: "where the SQLite file and other state live",
  "listen.host": "address to listen on",
  "listen.port": "port to listen on (0 picks a free one)",
  "database.postgres_url": "postgres:// URL; unset means embedded SQLite",
  "database.postgres_schema": "PostgreSQL schema for the tables",
  "database.postgres_pool_size": "PostgreSQL connections per process",
  "database.sqlite_file": "SQLite file, relative to the data directory",
  "log.level": "fatal, error, warn, info, debug, trace or silent",
  "inbox.retention_days": "undelivered events older than this become a 'missed' marker",
  "inbox.retention_events": "at most this many events are replayed to a returning device",
  "inbox.device_queue_items": "per-device queue length before the oldest items are dropped",
  "key_packages.sweep_interval_ms":
    "how often expired KeyPackages are deleted, in milliseconds (100 to 86,400,000)",
  "registration.mode": "open, invite-only or closed",
  "rate_limits.device_requests_per_second": "client API requests per second per device",
  "rate_limits.address_requests_per_second": "client API requests per second per address",
  "rate_limits.authentication_attempts_per_minute":
    "logins, registrations and session challenges per address per minute",
  "federation.enabled": "false: no links to other servers",
  "federation.tick_interval_ms": "the federation core's tick (Raft timers count ticks)",
  "federation.peer_addresses":
    "name=host:port,... where to connect for those peers instead of where their names point",
};

/** Each setting's default, as the schema fills it in for an empty file. */
export function settingDefaults(): Readonly<Record<string, unknown>> {
  const defaults = settingsSchema.parse({}) as Record<string, unknown>;
  const flat: Record<string, unknown> = {};
  for (const [section, key] of settingPaths) {
    const holder = section === null ? defaults : (defaults[section] as Record<string, unknown>);
    flat[section === null ? key : `${section}.${key}`] = holder[key];
  }
  return flat;
}
