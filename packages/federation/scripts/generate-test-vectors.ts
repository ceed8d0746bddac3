/**
 * Writes test-vectors/frames.json. Run from the repository root with:
 *   npx tsx packages/federation/scripts/generate-test-vectors.ts
 * The tests fail if the committed file differs from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildFrameVectors, serializeVectors } from "../test/vectors/frame-vectors.ts";

const directory = fileURLToPath(new URL("../test-vectors", import.meta.url));
mkdirSync(directory, { recursive: true });
writeFileSync(`${directory}/frames.json`, serializeVectors(buildFrameVectors()));
process.stdout.write("wrote test-vectors/frames.json\n");
