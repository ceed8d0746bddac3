/**
 * The simulator's worker thread as one bundled script. A worker thread does
 * not inherit the TypeScript loader (tsx or vitest) its parent runs under;
 * loading tsx in the worker and transpiling ~70 modules there took about
 * 0.5 CPU-seconds per worker, a third of a 500-seed run on two cores.
 * esbuild bundles the same sources in ~0.1 s, in its own process, while
 * this thread is already running seeds; a worker started from the bundle
 * runs its first seed after ~0.15 s. The bundle is built from the sources
 * of this checkout each time a process first needs it (never a stale file
 * on disk), so a seed and the commit still determine a run.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// A path, not the URL's pathname, which would keep escapes such as %20.
const entryPoint = fileURLToPath(new URL("./simulation-worker.ts", import.meta.url));

let bundled: Promise<string> | undefined;

/** The worker's code as a CommonJS script for `new Worker(code, { eval: true })`; built once per process. */
export function simulationWorkerScript(): Promise<string> {
  bundled ??= bundle();
  return bundled;
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("esbuild produced no simulator worker bundle");
  return output.text;
}
