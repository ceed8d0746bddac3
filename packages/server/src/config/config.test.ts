import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "./load.ts";
import { environmentVariableName, settingPaths } from "./settings.ts";

let directory = "";

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-config-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeConfig(text: string): Promise<string> {
  const path = join(directory, "parley.toml");
  await writeFile(path, text);
  return path;
}

describe("configuration", () => {
  it("needs no file and no variables: SQLite in ./parley-data, loopback port 8008", async () => {
    const config = await loadConfig({ environment: {}, workingDirectory: directory });
    expect(config).toEqual({
      serverName: null,
      dataDirectory: join(directory, "parley-data"),
      listen: { host: "127.0.0.1", port: 8008 },
      storage: { kind: "sqlite", path: join(directory, "parley-data", "parley.sqlite") },
      logLevel: "info",
      inboxRetention: { maxAgeMs: 30 * 24 * 60 * 60 * 1000, maxEvents: 10_000 },
      deviceQueueItems: 1000,
      keyPackageSweepIntervalMs: 60_000,
      registration: { mode: "open" },
      rateLimits: {
        deviceRequestsPerSecond: 50,
        addressRequestsPerSecond: 200,
        authenticationAttemptsPerMinute: 30,
      },
      federation: {
        enabled: true,
        tickIntervalMs: 100,
        peerAddresses: new Map(),
        keyPackageClaimTimeoutMs: 10_000,
      },
    });
  });

  it("reads a TOML file and lets environment variables override it", async () => {
    const configPath = await writeConfig(
      [
        'server_name = "chat.example.org"',
        "[listen]",
        "port = 9000",
        "[database]",
        'postgres_url = "postgres://parley:secret@db:5432/parley"',
        "postgres_pool_size = 20",
        "[inbox]",
        "retention_days = 7",
      ].join("\n"),
    );
    const config = await loadConfig({
      configPath,
      environment: { PARLEY_LISTEN_PORT: "9100", PARLEY_DATABASE_POSTGRES_SCHEMA: "parley_a" },
      workingDirectory: directory,
    });
    expect(config.serverName).toBe("chat.example.org");
    expect(config.listen.port).toBe(9100);
    expect(config.storage).toEqual({
      kind: "postgres",
      url: "postgres://parley:secret@db:5432/parley",
      schema: "parley_a",
      poolSize: 20,
    });
    expect(config.inboxRetention.maxAgeMs).toBe(7 * 24 * 60 * 60 * 1000);
    expect(JSON.stringify(describeConfig(config))).not.toContain("secret");
  });

  it("every setting has an environment variable that overrides it", async () => {
    const environment = {
      PARLEY_SERVER_NAME: "a.example",
      PARLEY_DATA_DIRECTORY: "/srv/parley",
      PARLEY_LISTEN_HOST: "0.0.0.0",
      PARLEY_LISTEN_PORT: "0",
      PARLEY_DATABASE_SQLITE_FILE: "other.sqlite",
      PARLEY_LOG_LEVEL: "debug",
      PARLEY_INBOX_RETENTION_DAYS: "2",
      PARLEY_INBOX_RETENTION_EVENTS: "5",
      PARLEY_INBOX_DEVICE_QUEUE_ITEMS: "6",
      PARLEY_KEY_PACKAGES_SWEEP_INTERVAL_MS: "250",
      PARLEY_REGISTRATION_MODE: "invite-only",
      PARLEY_RATE_LIMITS_DEVICE_REQUESTS_PER_SECOND: "7",
      PARLEY_RATE_LIMITS_ADDRESS_REQUESTS_PER_SECOND: "8",
      PARLEY_RATE_LIMITS_AUTHENTICATION_ATTEMPTS_PER_MINUTE: "9",
      PARLEY_FEDERATION_ENABLED: "false",
      PARLEY_FEDERATION_TICK_INTERVAL_MS: "50",
      PARLEY_FEDERATION_PEER_ADDRESSES: "b.example=127.0.0.1:9001, c.example=127.0.0.2:9002",
      PARLEY_FEDERATION_KEY_PACKAGE_CLAIM_TIMEOUT_MS: "1500",
    };
    // The PostgreSQL settings are overridden in the test above.
    const postgresNames = [
      "PARLEY_DATABASE_POSTGRES_URL",
      "PARLEY_DATABASE_POSTGRES_SCHEMA",
      "PARLEY_DATABASE_POSTGRES_POOL_SIZE",
    ];
    expect([...Object.keys(environment), ...postgresNames].sort()).toEqual(
      settingPaths.map(environmentVariableName).sort(),
    );
    const overridden = await loadConfig({ environment, workingDirectory: directory });
    expect(overridden).toMatchObject({
      serverName: "a.example",
      dataDirectory: "/srv/parley",
      listen: { host: "0.0.0.0", port: 0 },
      storage: { kind: "sqlite", path: "/srv/parley/other.sqlite" },
      logLevel: "debug",
      inboxRetention: { maxAgeMs: 2 * 24 * 60 * 60 * 1000, maxEvents: 5 },
      deviceQueueItems: 6,
      keyPackageSweepIntervalMs: 250,
      registration: { mode: "invite-only" },
      rateLimits: {
        deviceRequestsPerSecond: 7,
        addressRequestsPerSecond: 8,
        authenticationAttemptsPerMinute: 9,
      },
      federation: { enabled: false, tickIntervalMs: 50, keyPackageClaimTimeoutMs: 1500 },
    });
    expect([...(overridden.federation.peerAddresses ?? new Map())]).toEqual([
      ["b.example", "127.0.0.1:9001"],
      ["c.example", "127.0.0.2:9002"],
    ]);
  });

  it("refuses peer addresses that are not name=host:port", async () => {
    for (const bad of ["b.example", "b.example=127.0.0.1", "B.example=127.0.0.1:1"]) {
      const attempt = loadConfig({
        environment: { PARLEY_FEDERATION_PEER_ADDRESSES: bad },
        workingDirectory: directory,
      });
      await expect(attempt).rejects.toThrow(/federation\.peer_addresses/);
    }
  });

  it("reports every bad value with where it came from", async () => {
    const configPath = await writeConfig('[listen]\nport = 70000\n[log]\nlevel = "loud"\n');
    const attempt = loadConfig({
      configPath,
      environment: { PARLEY_DATABASE_POSTGRES_POOL_SIZE: "many" },
      workingDirectory: directory,
    });
    await expect(attempt).rejects.toThrow(ConfigError);
    const message = await attempt.catch((error: unknown) => String(error));
    expect(message).toContain("listen.port (from");
    expect(message).toContain("log.level");
    expect(message).toContain(
      "database.postgres_pool_size (from PARLEY_DATABASE_POSTGRES_POOL_SIZE)",
    );
  });

  it("refuses unknown keys, which are usually typos", async () => {
    const configPath = await writeConfig("[listen]\nprot = 8008\n");
    await expect(
      loadConfig({ configPath, environment: {}, workingDirectory: directory }),
    ).rejects.toThrow(/prot/);
  });

  it("says clearly when the file is missing or not TOML", async () => {
    await expect(
      loadConfig({
        configPath: join(directory, "missing.toml"),
        environment: {},
        workingDirectory: directory,
      }),
    ).rejects.toThrow(/cannot read the configuration file/);
    const broken = await writeConfig("[listen\n");
    await expect(
      loadConfig({ configPath: broken, environment: {}, workingDirectory: directory }),
    ).rejects.toThrow(/not valid TOML/);
  });

  it("refuses a database URL that is not PostgreSQL", async () => {
    await expect(
      loadConfig({
        environment: { PARLEY_DATABASE_POSTGRES_URL: "mysql://db" },
        workingDirectory: directory,
      }),
    ).rejects.toThrow(/postgres:\/\//);
  });
});
