// Reads the configuration: an optional TOML file, then environment overrides,
// then one schema check that reports every problem at once with where the value
// came from. The result is resolved (absolute paths, the database chosen) so
// nothing downstream re-interprets settings.

import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";
import { type PeerAddresses, parsePeerAddresses } from "../federation/discovery/peer-addresses.ts";
import { configFileBytesMax } from "../limits.ts";
import type { StorageConfig } from "../storage/open.ts";
import type { InboxRetention } from "../storage/records.ts";
import {
  dayMs,
  environmentVariableName,
  type Settings,
  settingPaths,
  settingsSchema,
} from "./settings.ts";

export type LogLevel = Settings["log"]["level"];

export interface HomeserverConfig {
  /** Null means `localhost:<the port actually bound>`, known only after listening. */
  readonly serverName: string | null;
  /** Absolute. */
  readonly dataDirectory: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly storage: StorageConfig;
  readonly logLevel: LogLevel;
  readonly inboxRetention: InboxRetention;
  readonly deviceQueueItems: number;
  /** How often KeyPackages whose lifetime ended are deleted; unset means
   * `keyPackageSweepIntervalMsDefault` (configurations built in code, tests). */
  readonly keyPackageSweepIntervalMs?: number;
  readonly registration: { readonly mode: RegistrationMode };
  readonly rateLimits: RateLimitSettings;
  readonly federation: FederationSettings;
}

export interface FederationSettings {
  /** False: no links to other servers (rooms still run through the federation core, alone). */
  readonly enabled: boolean;
  /** The federation core's tick; Raft's election and heartbeat timers count these. */
  readonly tickIntervalMs: number;
  /** Where to connect for these peers instead of where their names point (§12.10.1). */
  readonly peerAddresses?: PeerAddresses;
  /** How long a KeyPackage claim to another server waits for the link and the answer. */
  readonly keyPackageClaimTimeoutMs?: number;
}

export type RegistrationMode = Settings["registration"]["mode"];

export interface RateLimitSettings {
  readonly deviceRequestsPerSecond: number;
  readonly addressRequestsPerSecond: number;
  readonly authenticationAttemptsPerMinute: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface ConfigSources {
  /** The TOML file to read, if any. */
  readonly configPath?: string;
  /** Usually process.env. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against this. */
  readonly workingDirectory: string;
}

type RawSettings = Record<string, unknown>;

async function readConfigFile(path: string): Promise<RawSettings> {
  let text: string;
  try {
    const content = await readFile(path);
    if (content.byteLength > configFileBytesMax) {
      throw new ConfigError(`${path}: larger than ${configFileBytesMax} bytes`);
    }
    text = content.toString("utf8");
  } catch (error) {
    if (error instanceof ConfigError) {
      throw error;
    }
    throw new ConfigError(`cannot read the configuration file ${path}`, { cause: error });
  }
  try {
    return parseToml(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${path}: not valid TOML: ${detail}`, { cause: error });
  }
}

function isRecord(value: unknown): value is RawSettings {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Overlays PARLEY_* variables onto the file's values; returns which paths they set. */
function applyEnvironment(
  raw: RawSettings,
  environment: ConfigSources["environment"],
): Map<string, string> {
  const fromEnvironment = new Map<string, string>();
  for (const path of settingPaths) {
    const name = environmentVariableName(path);
    const value = environment[name];
    if (value === undefined || value.trim() === "") {
      continue;
    }
    const [section, key] = path;
    let target = raw;
    if (section !== null) {
      const existing = raw[section];
      target = isRecord(existing) ? existing : {};
      raw[section] = target;
    }
    target[key] = value;
    fromEnvironment.set(section === null ? key : `${section}.${key}`, name);
  }
  return fromEnvironment;
}

function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  fromEnvironment: Map<string, string>,
  configPath: string | undefined,
): string {
  const lines = issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const source =
      fromEnvironment.get(path) ?? (configPath === undefined ? "defaults" : configPath);
    return `  ${path === "" ? "(top level)" : path} (from ${source}): ${issue.message}`;
  });
  return ["the configuration is not valid:", ...lines].join("\n");
}

export async function loadConfig(sources: ConfigSources): Promise<HomeserverConfig> {
  const raw = sources.configPath === undefined ? {} : await readConfigFile(sources.configPath);
  const fromEnvironment = applyEnvironment(raw, sources.environment);
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(describeIssues(parsed.error.issues, fromEnvironment, sources.configPath));
  }
  return resolveSettings(parsed.data, sources.workingDirectory);
}

function resolveSettings(settings: Settings, workingDirectory: string): HomeserverConfig {
  const dataDirectory = resolve(workingDirectory, settings.data_directory);
  const database = settings.database;
  const storage: StorageConfig =
    database.postgres_url === undefined
      ? {
          kind: "sqlite",
          path: isAbsolute(database.sqlite_file)
            ? database.sqlite_file
            : resolve(dataDirectory, database.sqlite_file),
        }
      : {
          kind: "postgres",
          url: database.postgres_url,
          schema: database.postgres_schema,
          poolSize: database.postgres_pool_size,
        };
  return {
    serverName: settings.server_name ?? null,
    dataDirectory,
    listen: settings.listen,
    storage,
    logLevel: settings.log.level,
    inboxRetention: {
      maxAgeMs: settings.inbox.retention_days * dayMs,
      maxEvents: settings.inbox.retention_events,
    },
    deviceQueueItems: settings.inbox.device_queue_items,
    keyPackageSweepIntervalMs: settings.key_packages.sweep_interval_ms,
    registration: { mode: settings.registration.mode },
    rateLimits: {
      deviceRequestsPerSecond: settings.rate_limits.device_requests_per_second,
      addressRequestsPerSecond: settings.rate_limits.address_requests_per_second,
      authenticationAttemptsPerMinute: settings.rate_limits.authentication_attempts_per_minute,
    },
    federation: {
      enabled: settings.federation.enabled,
      tickIntervalMs: settings.federation.tick_interval_ms,
      peerAddresses: parsePeerAddresses(settings.federation.peer_addresses),
      keyPackageClaimTimeoutMs: settings.federation.key_package_claim_timeout_ms,
    },
  };
}

/** The configuration with secrets removed, for logs and status pages. */
export function describeConfig(config: HomeserverConfig): Record<string, unknown> {
  const storage =
    config.storage.kind === "sqlite"
      ? { kind: "sqlite", path: config.storage.path }
      : {
          kind: "postgres",
          url: redactUrlPassword(config.storage.url),
          schema: config.storage.schema,
          poolSize: config.storage.poolSize,
        };
  return { ...config, storage };
}

function redactUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") {
      parsed.password = "redacted";
    }
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
