import { describe, expect, it } from "vitest";
import { SimulationMisuseError } from "../misuse.ts";
import { naturalLogarithm, sampleExponential } from "./distribution.ts";
import { createRandom, type Random } from "./random.ts";

function draw(random: Random, count: number): number[] {
  return Array.from({ length: count }, () => random.integerBelow(1_000_000));
}

describe("createRandom", () => {
  it("replays the same sequence for the same seed", () => {
    expect(draw(createRandom(7), 50)).toEqual(draw(createRandom(7), 50));
  });

  it("gives different sequences for neighbouring seeds", () => {
    expect(draw(createRandom(1), 10)).not.toEqual(draw(createRandom(2), 10));
  });

  it("pins the sequence of seed 42, so a dependency upgrade cannot silently break replays", () => {
    expect(draw(createRandom(42), 5)).toEqual([191153, 330562, 482091, 660719, 458961]);
    expect(draw(createRandom(42).fork("network"), 5)).toEqual([
      295440, 461402, 911726, 775527, 45153,
    ]);
  });

  it("uses all 53 bits of the seed", () => {
    const low = createRandom(5);
    const high = createRandom(5 + 2 ** 40);
    expect(draw(low, 5)).not.toEqual(draw(high, 5));
  });

  it("rejects seeds that would not print and parse exactly", () => {
    expect(() => createRandom(-1)).toThrow(SimulationMisuseError);
    expect(() => createRandom(1.5)).toThrow(SimulationMisuseError);
    expect(() => createRandom(2 ** 53)).toThrow(SimulationMisuseError);
  });
});

describe("fork", () => {
  it("does not depend on how much the parent has drawn", () => {
    const quiet = createRandom(9);
    const busy = createRandom(9);
    draw(busy, 100);
    expect(draw(quiet.fork("clients"), 20)).toEqual(draw(busy.fork("clients"), 20));
  });

  it("does not perturb the parent or its siblings", () => {
    const alone = createRandom(9);
    const withSibling = createRandom(9);
    const aloneChild = alone.fork("network");
    withSibling.fork("disk");
    const siblingChild = withSibling.fork("network");
    expect(draw(aloneChild, 20)).toEqual(draw(siblingChild, 20));
    expect(draw(alone, 20)).toEqual(draw(withSibling, 20));
  });

  it("gives distinct streams for distinct labels and distinct paths", () => {
    const root = createRandom(3);
    const a = root.fork("a");
    const b = root.fork("b");
    const aInner = a.fork("b");
    expect(draw(a, 10)).not.toEqual(draw(b, 10));
    expect(draw(aInner, 10)).not.toEqual(draw(createRandom(3).fork("b"), 10));
    expect(aInner.path).toBe("3/a/b");
  });

  it("refuses the same label twice and labels that would blur the path", () => {
    const root = createRandom(3);
    root.fork("node-1");
    expect(() => root.fork("node-1")).toThrow(SimulationMisuseError);
    expect(() => root.fork("a/b")).toThrow(SimulationMisuseError);
    expect(() => root.fork("")).toThrow(SimulationMisuseError);
  });
});

describe("draws", () => {
  it("keeps integers in range and covers every value", () => {
    const random = createRandom(11);
    const counts = new Array<number>(6).fill(0);
    for (let index = 0; index < 6_000; index += 1) {
      const value = random.integerBelow(6);
      counts[value] = (counts[value] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(850);
      expect(count).toBeLessThan(1_150);
    }
    for (let index = 0; index < 1_000; index += 1) {
      const value = random.integerBetween(-3, 3);
      expect(value).toBeGreaterThanOrEqual(-3);
      expect(value).toBeLessThanOrEqual(3);
    }
  });

  it("keeps floats in [0, 1)", () => {
    const random = createRandom(12);
    for (let index = 0; index < 10_000; index += 1) {
      const value = random.float();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  it("treats chance(0) and chance(1) as certain", () => {
    const random = createRandom(13);
    for (let index = 0; index < 1_000; index += 1) {
      expect(random.chance(0)).toBe(false);
      expect(random.chance(1)).toBe(true);
    }
    expect(() => random.chance(1.5)).toThrow(SimulationMisuseError);
  });

  it("shuffles into a permutation and leaves the input alone", () => {
    const random = createRandom(14);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = random.shuffle(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(random.pick(items)).toBeGreaterThanOrEqual(1);
    expect(() => random.pick([])).toThrow(SimulationMisuseError);
  });
});

describe("distribution", () => {
  it("computes the natural logarithm within a few units in the last place", () => {
    const random = createRandom(15);
    const inputs = [1, 2, 0.5, Math.E, 1e-300, 5e-324, 1e300, 0.9999999, 1.0000001];
    for (let index = 0; index < 1_000; index += 1) {
      inputs.push(random.float() + 2 ** -53);
    }
    for (const x of inputs) {
      const expected = Math.log(x);
      expect(Math.abs(naturalLogarithm(x) - expected)).toBeLessThanOrEqual(
        Math.max(Math.abs(expected), 1) * 4 * Number.EPSILON,
      );
    }
  });

  it("samples the exponential distribution with the requested mean", () => {
    const random = createRandom(16);
    let total = 0;
    const count = 20_000;
    for (let index = 0; index < count; index += 1) {
      total += sampleExponential(random, 50);
    }
    expect(total / count).toBeGreaterThan(48);
    expect(total / count).toBeLessThan(52);
    expect(sampleExponential(random, 0)).toBe(0);
  });
});
