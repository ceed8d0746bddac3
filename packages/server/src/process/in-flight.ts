// Tracks work that must finish before the database closes: background tasks
// now, and whatever later layers hand it. Shutdown calls `drain`, which stops
// new work and waits (up to a grace period) for the running work to end.

import { backgroundTasksMax } from "../limits.ts";

export class ShuttingDownError extends Error {
  override readonly name = "ShuttingDownError";
}

export class InFlightWork {
  readonly #running = new Set<Promise<unknown>>();
  #accepting = true;

  get size(): number {
    return this.#running.size;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /** Runs `work`, refusing once shutdown began or when too much is running. */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.#accepting) {
      return Promise.reject(new ShuttingDownError("the homeserver is shutting down"));
    }
    if (this.#running.size >= backgroundTasksMax) {
      return Promise.reject(new Error(`more than ${backgroundTasksMax} background tasks`));
    }
    const running = work();
    // The tracker's copy swallows the outcome: the caller handles `running`.
    const forget = (): void => {
      this.#running.delete(tracked);
    };
    const tracked: Promise<void> = running.then(forget, forget);
    this.#running.add(tracked);
    return running;
  }

  /** Stops accepting work and waits for running work; false if the grace period ran out. */
  async drain(graceMs: number): Promise<boolean> {
    this.#accepting = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const settled = Promise.allSettled([...this.#running]).then(() => true as const);
    try {
      return await Promise.race([settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
