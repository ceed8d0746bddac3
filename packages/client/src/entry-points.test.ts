// The main entry must run in browsers: nothing it reaches may import a Node
// module or the `ws` package. Node-only code lives behind ./node.ts.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const sourceDirectory = dirname(fileURLToPath(import.meta.url));

function reachableImports(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const pending = [entry];
  while (pending.length > 0 && files.size < 500) {
    const file = pending.pop();
    if (file === undefined || files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from "([^"]+)";/gms)) {
      const specifier = match[1] ?? "";
      if (specifier.startsWith(".")) pending.push(join(dirname(file), specifier));
      else external.add(specifier);
    }
  }
  return { files, external };
}

describe("entry points", () => {
  it("the main entry imports nothing Node-only", () => {
    const { files, external } = reachableImports(join(sourceDirectory, "index.ts"));
    expect(files.size).toBeGreaterThan(10);
    expect([...external].sort()).toEqual(["@parley/mls", "@parley/protocol", "@parley/room"]);
  });

  it("the node entry is where node modules and ws come in", () => {
    const { external } = reachableImports(join(sourceDirectory, "node.ts"));
    expect(external).toContain("ws");
    expect(external).toContain("node:fs/promises");
  });
});
