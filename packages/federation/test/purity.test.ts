/**
 * The cores are sans-IO: they read no clock, draw no randomness and touch no
 * timer, socket or file — the clock, the random source, the transport and
 * the storage are injected. This test reads every core source file (not the
 * simulation, which drives virtual time, and not tests) and refuses the usual ways in.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const sourceRoot = fileURLToPath(new URL("../src", import.meta.url));

function coreFiles(directory: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) {
      if (name !== "simulation") files.push(...coreFiles(path));
    } else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) {
      files.push(path);
    }
  }
  return files;
}

const forbidden: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now"],
  [/\bnew Date\s*\(/, "new Date"],
  [/\bMath\.random\s*\(/, "Math.random"],
  [/\bperformance\.now\s*\(/, "performance.now"],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, "timers"],
  [/\bfrom\s+["']node:/, "a Node built-in"],
  [/\bprocess\./, "process"],
];

describe("federation cores", () => {
  const files = coreFiles(sourceRoot);

  it("are found", () => {
    expect(files.length).toBeGreaterThan(30);
  });

  for (const file of files) {
    it(`${file.slice(sourceRoot.length + 1)} does no IO of its own`, () => {
      const text = readFileSync(file, "utf8");
      for (const [pattern, what] of forbidden) expect(text, what).not.toMatch(pattern);
    });
  }
});
