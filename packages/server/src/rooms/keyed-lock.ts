// One task at a time per key (per room): control entries of a room are
// checked, appended and applied strictly one after another, exactly as a Raft
// log would feed them. Different rooms proceed in parallel. A key's entry is
// removed when its last task ends, so the map holds only busy rooms.

export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<Result>(key: string, task: () => Promise<Result>): Promise<Result> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  get busyKeys(): number {
    return this.#tails.size;
  }
}
