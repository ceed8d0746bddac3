import { SimulationMisuseError } from "../misuse.ts";
import type { Random } from "./random.ts";

/**
 * A sample of the exponential distribution with the given mean (≥ 0), by
 * inversion: -mean · ln(1 - u). Mean 0 gives 0.
 */
export function sampleExponential(random: Random, mean: number): number {
  // Checked without building the message first: this runs for most packets.
  if (!(Number.isFinite(mean) && mean >= 0)) {
    throw new SimulationMisuseError(`exponential mean must be finite and ≥ 0, got ${mean}`);
  }
  // 1 - u is in (0, 1], so the logarithm is finite and ≤ 0.
  return -mean * naturalLogarithm(1 - random.float());
}

/**
 * ln(x) for finite x > 0, computed with + - × ÷ only.
 *
 * Why not Math.log: ECMAScript lets engines approximate it, so a V8 upgrade or
 * another engine could change the last bit of a delay, round it the other way,
 * and break replay of a recorded seed. IEEE 754 fixes the result of the four
 * basic operations exactly, so this is bit-identical everywhere. Accuracy is
 * within a few units in the last place, plenty for simulated delays.
 */
export function naturalLogarithm(x: number): number {
  if (!(Number.isFinite(x) && x > 0)) {
    throw new SimulationMisuseError(`naturalLogarithm needs a finite x > 0, got ${x}`);
  }
  // Reduce x = mantissa · 2^exponent with mantissa in [√½, √2]. Halving and
  // doubling are exact; 1,100 steps cover every double, subnormals included.
  let mantissa = x;
  let exponent = 0;
  for (let step = 0; step < 1_100 && mantissa > Math.SQRT2; step += 1) {
    mantissa /= 2;
    exponent += 1;
  }
  for (let step = 0; step < 1_100 && mantissa < Math.SQRT1_2; step += 1) {
    mantissa *= 2;
    exponent -= 1;
  }
  // ln(m) = 2·atanh(t) with t = (m-1)/(m+1), |t| ≤ 0.172, so t² ≤ 0.0295 and
  // 14 terms of t + t³/3 + t⁵/5 + … reach below 2^-60 of the result.
  const t = (mantissa - 1) / (mantissa + 1);
  const tSquared = t * t;
  let power = t;
  let series = 0;
  for (let term = 0; term < 14; term += 1) {
    series += power / (2 * term + 1);
    power *= tSquared;
  }
  return exponent * Math.LN2 + 2 * series;
}
