// `parley server`: runs a homeserver in this process. Configuration is the
// server's own (packages/server/src/config): an optional TOML file given with
// --config (or PARLEY_CONFIG), overridden by PARLEY_* environment variables.

import {
  environmentVariableName,
  settingDefaults,
  settingDescriptions,
  settingPaths,
} from "@parley/server/config";

export function serverHelp(): string {
  const defaults = settingDefaults();
  const rows = settingPaths.map((path) => {
    const [section, key] = path;
    const name = section === null ? key : `${section}.${key}`;
    const fallback = defaults[name];
    return {
      name,
      variable: environmentVariableName(path),
      fallback: fallback === undefined ? "(unset)" : JSON.stringify(fallback),
      description: settingDescriptions[name] ?? "",
    };
  });
  return [
    "usage: parley server [--config FILE] [--rotate-key]",
    "",
    "--rotate-key: with the server stopped, make a new server key the current one;",
    "the old key co-signs the new key document and stays valid for 7 days.",
    "",
    "Runs a Parley homeserver. With no configuration at all it stores everything",
    "in embedded SQLite under ./parley-data and listens on 127.0.0.1:8008.",
    "",
    "Settings come from the TOML file (--config FILE, or PARLEY_CONFIG), written",
    "as `key = value` at the top level or under `[section]`, and each one is",
    "overridden by its environment variable:",
    "",
    ...rows.flatMap((row) => [
      `  ${row.name}  (${row.variable}, default ${row.fallback})`,
      `      ${row.description}`,
    ]),
    "",
    "SIGINT or SIGTERM stops the server gracefully; a second signal exits at once.",
    "",
  ].join("\n");
}

/** Runs the homeserver's own entry point with `args` as its command line. */
export async function runServer(args: readonly string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(serverHelp());
    return;
  }
  // The server's main reads its arguments from process.argv, like any program.
  process.argv = [process.argv[0] ?? "node", "parley-server", ...args];
  await import("@parley/server/main");
}
