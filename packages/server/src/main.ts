// The homeserver program: the one place where real IO is wired together.
//
//   node --import tsx packages/server/src/main.ts [--config parley.toml]
//
// Configuration comes from the optional TOML file (also PARLEY_CONFIG) and
// PARLEY_* environment variables. SIGINT or SIGTERM stops it gracefully: no new
// connections, in-flight requests and writes finish, the database closes, and
// the exit code is 0. A second signal during shutdown exits at once with 1.

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, describeConfig, type HomeserverConfig, loadConfig } from "./config/load.ts";
import { rotateServerKey } from "./identity/server-key.ts";
import { createLogger } from "./observability/logger.ts";
import { startHomeserver } from "./process/homeserver.ts";
import { openStorage } from "./storage/open.ts";

const usage = `usage: parley-homeserver [--config FILE] [--rotate-key]

--rotate-key  with the server stopped: make a new server key the current one;
              the old key co-signs the key document and stays valid for 7 days`;

/** How long an outgoing server key stays valid after a rotation. */
const rotationOverlapMs = 7 * 24 * 60 * 60 * 1000;

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once with 1. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        process.stderr.write(`second ${signal}: exiting without a clean shutdown\n`);
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** `--rotate-key`: a new current server key in the configured database. */
async function rotateKey(config: HomeserverConfig): Promise<number> {
  if (config.storage.kind === "sqlite" && !existsSync(config.storage.path)) {
    process.stderr.write(
      `no server database at ${config.storage.path}: a server that never ran has no key to rotate\n`,
    );
    return 2;
  }
  const storage = await openStorage(config.storage);
  try {
    await storage.migrations.migrateToLatest();
    const { current, retired } = await rotateServerKey(storage, Date.now(), rotationOverlapMs);
    const until = retired?.validUntilMs == null ? "" : new Date(retired.validUntilMs).toISOString();
    process.stdout.write(
      [
        `server key rotated: ${current.keyId} is current`,
        retired === null ? "" : `  ${retired.keyId} stays valid until ${until}`,
        "",
      ].join("\n"),
    );
    return 0;
  } finally {
    await storage.close();
  }
}

async function main(): Promise<number> {
  // Listen for signals before anything starts, so a stop requested during
  // start-up (or right after the banner) is a clean stop, not a kill.
  const stopRequested = stopSignal();
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      help: { type: "boolean" },
      "rotate-key": { type: "boolean" },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const configVariable = "PARLEY_CONFIG";
  const configPath = values.config ?? process.env[configVariable];
  const config = await loadConfig({
    ...(configPath === undefined || configPath === "" ? {} : { configPath }),
    environment: process.env,
    workingDirectory: process.cwd(),
  });
  if (values["rotate-key"] === true) return rotateKey(config);
  const logger = createLogger(config.logLevel);
  logger.info({ config: describeConfig(config) }, "starting");
  const homeserver = await startHomeserver(config, { logger, nowMs: () => Date.now() });
  process.stdout.write(
    [
      "Parley homeserver running",
      `  data directory: ${config.dataDirectory}`,
      `  database:       ${config.storage.kind}`,
      `  server name:    ${homeserver.serverName}`,
      `  server key:     ${homeserver.signer.keyId}`,
      `  listening on:   ${homeserver.url}`,
      `  admin token:    ${homeserver.adminTokenPath}`,
      "",
    ].join("\n"),
  );

  const signal = await stopRequested;
  logger.info({ signal }, "shutting down");
  try {
    await homeserver.close();
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    return 1;
  }
  logger.info("stopped");
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`the homeserver failed to start: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
