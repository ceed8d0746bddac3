/**
 * Writes the test vectors to test-vectors/*.json. Run from the repository
 * root with: npx tsx packages/protocol/scripts/generate-test-vectors.ts
 * The tests fail if the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildTestVectors, serializeVectors } from "../test/vectors/build-test-vectors.ts";

const directory = fileURLToPath(new URL("../test-vectors", import.meta.url));
mkdirSync(directory, { recursive: true });
for (const [name, content] of Object.entries(buildTestVectors())) {
  writeFileSync(join(directory, `${name}.json`), serializeVectors(content));
  process.stdout.write(`wrote test-vectors/${name}.json\n`);
}
