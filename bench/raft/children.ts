/**
 * Child processes of the benchmark (node processes and etcd members): every
 * one is registered here so that it is killed when the benchmark exits,
 * whatever happens, and `killAndWait` stops one and waits until it is gone
 * (so its data directory can be removed).
 */
import type { ChildProcess } from "node:child_process";

const liveChildren = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

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
