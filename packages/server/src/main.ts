// The homeserver program: the one place where real IO is wired together.
//
//   node --import tsx packages/server/src/main.ts [--config parley.toml]
//
// Configuration comes from the optional TOML file (also PARLEY_CONFIG) and
// PARLEY_* environment variables. SIGINT or SIGTERM stops it gracefully: no new
// connections, in-flight requests and writes finish, the database closes, and
// the exit code is 0. A second signal during shutdown exits at once with 1.

import { parseArgs } from "node:util";
import { ConfigError, describeConfig, loadConfig } from "./config/load.ts";
import { createLogger } from "./observability/logger.ts";
import { startHomeserver } from "./process/homeserver.ts";

const usage = "usage: parley-homeserver [--config FILE]";

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

async function main(): Promise<number> {
  // Listen for signals before anything starts, so a stop requested during
  // start-up (or right after the banner) is a clean stop, not a kill.
  const stopRequested = stopSignal();
  const { values } = parseArgs({
    options: { config: { type: "string" }, help: { type: "boolean" } },
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
