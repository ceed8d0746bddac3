import { describe, expect, test } from "vitest";
import { benchmarks } from "./registry.ts";

// Every benchmark runs once in smoke mode so none can rot. No figure is
// asserted: speed targets live in the benchmarks and their written results.
describe("benchmarks in smoke mode", () => {
  for (const benchmark of benchmarks) {
    // Generous: the federation benchmark starts five homeserver processes even in smoke mode.
    test(benchmark.name, { timeout: 300_000 }, async () => {
      const figures = await benchmark.run({ smoke: true });
      expect(figures.length).toBeGreaterThan(0);
      for (const figure of figures) expect(Number.isFinite(figure.value)).toBe(true);
    });
  }
});
