/**
 * The package promises to run in browsers and to take time and randomness
 * from its callers. This reads the source and holds it to that promise.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const sourceRoot = fileURLToPath(new URL("../src", import.meta.url));

/** The only files allowed to use Node: the node:crypto provider and its entry point. */
const nodeOnlyFiles = new Set(["crypto/node-provider.ts", "node.ts"]);

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Code without comments, so prose may mention what code may not use. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"])\/\/.*$/gm, "$1");
}

const files = sourceFiles(sourceRoot).map((path) => ({
  name: relative(sourceRoot, path).split("\\").join("/"),
  text: withoutComments(readFileSync(path, "utf8")),
}));

describe("the package source", () => {
  test("has files to check", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  test.each(
    files.filter((file) => !nodeOnlyFiles.has(file.name)).map((file) => [file.name, file.text]),
  )("%s uses no Node API, clock or ambient randomness", (_, text) => {
    expect(text).not.toMatch(/from\s+"node:/);
    expect(text).not.toMatch(/\bBuffer\b/);
    expect(text).not.toMatch(/\bprocess\./);
    expect(text).not.toMatch(/\bDate\.now\b/);
    expect(text).not.toMatch(/\bMath\.random\b/);
  });

  test("only the node entry point reaches the node:crypto provider", () => {
    const importers = files
      .filter((file) => file.text.includes("node-provider.ts"))
      .map((file) => file.name);
    expect(importers).toEqual(["node.ts"]);
  });
});
