// Builds the browser client into packages/web/dist when it is missing or
// older than its sources, so `npm start` and the browser tests always serve
// the current code without a separate build step. The sources are the web
// package itself and the workspace packages it bundles (SDK, MLS, protocol, room);
// a changed lock file counts too, since it may change what gets bundled.

import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const webDirectory = fileURLToPath(new URL("..", import.meta.url));
const packagesDirectory = join(webDirectory, "..");
const repositoryDirectory = join(packagesDirectory, "..");
export const webClientDistDirectory = join(webDirectory, "dist");

const sources = [
  join(webDirectory, "src"),
  join(webDirectory, "public"),
  join(webDirectory, "index.html"),
  join(webDirectory, "vite.config.ts"),
  join(webDirectory, "package.json"),
  join(packagesDirectory, "client", "src"),
  join(packagesDirectory, "mls", "src"),
  join(packagesDirectory, "protocol", "src"),
  join(packagesDirectory, "room", "src"),
  join(repositoryDirectory, "package-lock.json"),
];
/** Files looked at per source tree; far above what the packages hold, so a wrong path stops early. */
const sourceFilesMax = 20_000;
/** A build on a busy two-core machine takes well under a minute. */
const buildTimeoutMs = 5 * 60_000;

/** Modification time of the newest file under `path` (0 if it does not exist). */
async function newestModificationMs(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const names = await readdir(path, { recursive: true });
  if (names.length > sourceFilesMax) throw new Error(`${path} has over ${sourceFilesMax} entries`);
  let newest = info.mtimeMs;
  for (const name of names) {
    const entry = await stat(join(path, name)).catch(() => undefined);
    if (entry !== undefined) newest = Math.max(newest, entry.mtimeMs);
  }
  return newest;
}

/** Why the bundle must be (re)built, or undefined when it is current. */
export async function staleReason(): Promise<string | undefined> {
  const built = await stat(join(webClientDistDirectory, "index.html")).catch(() => undefined);
  if (built === undefined) return "not built yet";
  for (const source of sources) {
    if ((await newestModificationMs(source)) > built.mtimeMs) {
      return `${source.slice(repositoryDirectory.length + 1)} changed`;
    }
  }
  return undefined;
}

/** Runs `vite build` in packages/web; rejects with Vite's output when it fails. */
export function buildWebClient(): Promise<void> {
  const require = createRequire(import.meta.url);
  const vite = join(dirname(require.resolve("vite/package.json")), "bin", "vite.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [vite, "build", "--logLevel", "warn"],
      {
        cwd: webDirectory,
        // Vite keeps an inherited NODE_ENV (vitest sets "test"), which would
        // bundle React's development build.
        env: { ...process.env, NODE_ENV: "production" },
        timeout: buildTimeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error === null) resolve();
        else reject(new Error(`building the web client failed:\n${stdout}${stderr}`));
      },
    );
  });
}

/** Builds the bundle if it is stale; `say` hears one line when it does. */
export async function ensureWebClientBuilt(say: (line: string) => void): Promise<void> {
  const reason = await staleReason();
  if (reason === undefined) return;
  say(`building the web client (${reason})…`);
  await buildWebClient();
}
