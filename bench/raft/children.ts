/**
 * Child processes of the benchmark (node processes and etcd members): every
 * one is registered here so that it is killed when the benchmark exits or is
 * interrupted (and the data directories registered here removed), and `killAndWait` stops one and waits until it is gone
 * (so its data directory can be removed).
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

const liveChildren = new Set<ChildProcess>();
const temporaryDirectories = new Set<string>();

function killAll(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const directory of temporaryDirectories) {
    // Best effort: a child just killed may still be closing its files.
    rmSync(directory, { recursive: true, force: true, maxRetries: 3 });
  }
}

process.once("exit", killAll);
// Interrupted (Ctrl-C, or a CI timeout): etcd members have no IPC channel to
// notice that we are gone, so kill them all before going.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(code);
  });
}

/** A data directory to remove at exit if its owner has not (`release` when it has). */
export function registerDirectory(directory: string): { release(): void } {
  temporaryDirectories.add(directory);
  return { release: () => temporaryDirectories.delete(directory) };
}

export function registerChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
}

/**
 * Stops a child and resolves once it has exited. A child with an IPC channel
 * is first asked to leave by closing the channel (so a profiled child can
 * write its profile); after `graceMs`, or at once without a channel, it gets
 * SIGKILL. Resolves after a further second whatever happens.
 */
export function killAndWait(child: ChildProcess, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    let timer: NodeJS.Timeout;
    const kill = () => {
      child.kill("SIGKILL");
      timer = setTimeout(resolve, 1_000);
    };
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) {
      child.disconnect();
      timer = setTimeout(kill, graceMs);
    } else {
      kill();
    }
  });
}
