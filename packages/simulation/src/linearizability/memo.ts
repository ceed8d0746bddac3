import { mixWord } from "../random/seed.ts";

/**
 * Configurations (set of linearized operations, model state) the search has
 * already explored, for Lowe's memoization of the Wing–Gong search.
 *
 * The set of operations is kept as a 96-bit Zobrist hash: each operation owns
 * three pseudo-random 32-bit words, XORed in and out as it is linearized and
 * undone, so a configuration's key costs O(1) however long the history.
 * Porcupine instead stores a copy of the whole bitset per configuration,
 * which costs O(n) time and memory per step: for a key with 3,000 operations
 * that was most of the search time, and with a budget of millions of steps
 * more memory than a test machine has.
 *
 * The price is a false "already explored" when two different sets share all
 * 96 bits: for N configurations the chance is below N²/2^97, about 10^-16 at
 * the default step budget. Such a false match could only prune a branch, so
 * the error would be a spurious "not linearizable", never a missed violation.
 */
export class ExploredConfigurations {
  private readonly explored = new Set<string>();
  private hashFirst = 0;
  private hashSecond = 0;
  private hashThird = 0;

  /** Adds or removes an operation from the current set (the same call undoes itself). */
  toggle(operationIndex: number): void {
    this.hashFirst ^= mixWord(3 * operationIndex + 1);
    this.hashSecond ^= mixWord(3 * operationIndex + 2);
    this.hashThird ^= mixWord(3 * operationIndex + 3);
  }

  /** Records (current set, state); answers false if it was recorded before. */
  addIfNew(stateKey: string): boolean {
    const key =
      String.fromCharCode(
        this.hashFirst & 0xffff,
        this.hashFirst >>> 16,
        this.hashSecond & 0xffff,
        this.hashSecond >>> 16,
        this.hashThird & 0xffff,
        this.hashThird >>> 16,
      ) + stateKey;
    if (this.explored.has(key)) {
      return false;
    }
    this.explored.add(key);
    return true;
  }
}
