import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import { randomLabelCharactersMax } from "../limits.ts";
import { ensure, SimulationMisuseError } from "../misuse.ts";
import { deriveGeneratorState } from "./seed.ts";

/**
 * A seeded stream of random choices. Everything random in a simulation comes
 * from one of these, so a seed replays a run exactly.
 *
 * Contract: the same seed and the same fork path give the same sequence of
 * results on every machine and every run, for the same sequence of calls.
 */
export interface Random {
  /** The seed and fork labels that produced this stream, e.g. "42/network/node-3". */
  readonly path: string;
  /** An integer uniformly in [0, bound). `bound` is a safe integer ≥ 1. */
  integerBelow(bound: number): number;
  /** An integer uniformly in [minimum, maximum], both included, both safe integers. */
  integerBetween(minimum: number, maximum: number): number;
  /** A float uniformly in [0, 1), a multiple of 2^-53. */
  float(): number;
  /** True with the given probability in [0, 1]; chance(0) never draws true, chance(1) always does. */
  chance(probability: number): boolean;
  /** One element of a non-empty array, uniformly. */
  pick<Item>(items: readonly Item[]): Item;
  /** A new array with the items in uniformly random order (Fisher–Yates); the input is untouched. */
  shuffle<Item>(items: readonly Item[]): Item[];
  /**
   * A child stream named `label`. The child depends only on the seed and its
   * path, not on how much the parent has drawn, so adding a consumer (a new
   * fork, or more draws on the parent) never perturbs the others. A label may
   * be forked once per parent; forking it again throws, because two consumers
   * sharing one stream would be correlated (name a restarted node "node-3#2").
   * Labels are non-empty and contain no "/".
   */
  fork(label: string): Random;
}

/** Largest seed accepted: seeds are safe non-negative integers so they print and parse exactly. */
export const seedMax = Number.MAX_SAFE_INTEGER;

/**
 * A `Random` over xoroshiro128+ (the generator of pure-rand), whose 128-bit
 * state is derived from the seed and the fork path (see `seed.ts`).
 */
export function createRandom(seed: number): Random {
  ensure(
    Number.isSafeInteger(seed) && seed >= 0,
    `seed must be a safe non-negative integer, got ${seed}`,
  );
  return new SeededRandom(seed, []);
}

class SeededRandom implements Random {
  readonly path: string;
  private readonly generator: RandomGenerator;
  private readonly forkedLabels = new Set<string>();

  constructor(
    private readonly seed: number,
    private readonly labels: readonly string[],
  ) {
    this.path = [String(seed), ...labels].join("/");
    this.generator = xoroshiro128plusFromState(deriveGeneratorState(seed, labels));
  }

  // The checks below build their messages only when they fail: these
  // methods run several times per simulated packet.

  integerBelow(bound: number): number {
    if (!(Number.isSafeInteger(bound) && bound >= 1)) {
      throw new SimulationMisuseError(`integerBelow needs a safe integer bound ≥ 1, got ${bound}`);
    }
    return uniformInt(this.generator, 0, bound - 1);
  }

  integerBetween(minimum: number, maximum: number): number {
    if (!(Number.isSafeInteger(minimum) && Number.isSafeInteger(maximum) && minimum <= maximum)) {
      throw new SimulationMisuseError(
        `integerBetween needs safe integers minimum ≤ maximum, got ${minimum} and ${maximum}`,
      );
    }
    return uniformInt(this.generator, minimum, maximum);
  }

  float(): number {
    return uniformFloat64(this.generator);
  }

  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1)) {
      throw new SimulationMisuseError(`chance needs a probability in [0, 1], got ${probability}`);
    }
    // Always draw, even for 0 and 1, so changing a rate between 0 and a small
    // value does not shift every later draw of the stream.
    return this.float() < probability;
  }

  pick<Item>(items: readonly Item[]): Item {
    ensure(items.length > 0, "pick needs a non-empty array");
    const item = items[this.integerBelow(items.length)];
    // The index is in range, so `item` is only undefined if the array holds undefined.
    return item as Item;
  }

  shuffle<Item>(items: readonly Item[]): Item[] {
    const shuffled = [...items];
    for (let index = shuffled.length - 1; index > 0; index -= 1) {
      const other = this.integerBelow(index + 1);
      const current = shuffled[index] as Item;
      shuffled[index] = shuffled[other] as Item;
      shuffled[other] = current;
    }
    return shuffled;
  }

  fork(label: string): Random {
    ensure(
      label.length > 0 && label.length <= randomLabelCharactersMax && !label.includes("/"),
      `fork label must be 1–${randomLabelCharactersMax} characters without "/", got "${label}"`,
    );
    ensure(!this.forkedLabels.has(label), `label "${label}" already forked from ${this.path}`);
    this.forkedLabels.add(label);
    return new SeededRandom(this.seed, [...this.labels, label]);
  }
}
