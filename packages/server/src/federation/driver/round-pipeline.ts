// The driver's rounds of messages overlap: a round's transaction is handed to
// storage, and the next round runs while the disk syncs it. What a round
// causes (frames sent, requests answered) still happens only once its
// transaction is durable, and rounds finish in the order they started, so
// nothing a later round says overtakes what an earlier one said.

export type Durability = { readonly durable: true } | { readonly durable: false; error: unknown };

export class RoundPipeline {
  readonly #roundsMax: number;
  /** Rounds under way, oldest first; none of these promises rejects. */
  readonly #rounds: Promise<void>[] = [];

  constructor(roundsMax: number) {
    this.#roundsMax = roundsMax;
  }

  get size(): number {
    return this.#rounds.length;
  }

  /** Waits until another round may start. */
  async room(): Promise<void> {
    // Bounded: every round under way finishes (its promises never hang on this one).
    while (this.#rounds.length >= this.#roundsMax) await this.#rounds[0];
  }

  /** Waits until no round is under way (before a round that cannot overlap). */
  async drained(): Promise<void> {
    // Bounded: no round is added while the caller waits (the driver runs one round at a time).
    while (this.#rounds.length > 0) await this.#rounds[this.#rounds.length - 1];
  }

  /**
   * Adds a round: once `durable` settles and every earlier round finished,
   * `finish` is told how it went. `finish` must not throw.
   */
  add(durable: Promise<void>, finish: (outcome: Durability) => void): void {
    const previous = this.#rounds.at(-1);
    const round = durable
      .then(
        (): Durability => ({ durable: true }),
        (error: unknown): Durability => ({ durable: false, error }),
      )
      .then(async (outcome) => {
        await previous;
        try {
          finish(outcome);
        } finally {
          // Rounds finish in order, so the one finishing is the oldest.
          this.#rounds.shift();
        }
      });
    this.#rounds.push(round);
  }
}
