/**
 * Turns (seed, fork path) into the 128-bit state of a xoroshiro128+ generator.
 *
 * Why not pure-rand's own `xoroshiro128plus(seed)`: it puts the seed into the
 * state almost verbatim, so seeds 1 and 2 start with visibly related outputs
 * and it takes only 32 bits. Vigna, the generator's author, recommends seeding
 * it through a hash; we hash the seed (all 53 bits) and every label of the path
 * with MurmurHash3's 32-bit finaliser, four times with different starting
 * values, one per state word. Only integer operations are used, so the state is
 * the same on every machine.
 */
export function deriveGeneratorState(seed: number, labels: readonly string[]): number[] {
  const lanes = [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f];
  const absorb = (word: number): void => {
    for (let lane = 0; lane < lanes.length; lane += 1) {
      lanes[lane] = mixWord((lanes[lane] ?? 0) ^ word ^ Math.imul(lane + 1, 0x632be5ab));
    }
  };
  absorb(seed >>> 0);
  absorb(Math.floor(seed / 2 ** 32) >>> 0);
  for (const label of labels) {
    // The length first, so the path ["ab", "c"] never hashes like ["a", "bc"].
    absorb(label.length);
    for (let index = 0; index < label.length; index += 1) {
      absorb(label.charCodeAt(index));
    }
  }
  // xoroshiro128+ never leaves the all-zero state; hashing makes it all but
  // impossible, and this makes it impossible.
  if (!lanes.some((word) => word !== 0)) {
    lanes[0] = 1;
  }
  return lanes.map((word) => word | 0);
}

/** MurmurHash3's fmix32: a bijection on 32-bit words with full avalanche. */
export function mixWord(word: number): number {
  let mixed = word >>> 0;
  mixed ^= mixed >>> 16;
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  mixed ^= mixed >>> 16;
  return mixed >>> 0;
}
