/**
 * Runs every transcript in packages/raft/testdata through the interaction
 * environment. RAFT_REWRITE=1 regenerates the expected outputs in place.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REWRITE, runScript } from "./harness/datadriven.ts";
import { runCommand } from "./harness/interaction-commands.ts";
import { InteractionEnv } from "./harness/interaction-env.ts";

const directory = join(import.meta.dirname, "..", "testdata");
const scripts = readdirSync(directory).filter((name) => name.endsWith(".txt"));

describe("transcripts", () => {
  it("found transcripts to run", () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  for (const script of scripts) {
    it(script, () => {
      const env = new InteractionEnv();
      const mismatches = runScript(join(directory, script), (command) => runCommand(env, command));
      for (const mismatch of mismatches) {
        expect(
          mismatch.actual,
          `${mismatch.position}${REWRITE ? "" : " (RAFT_REWRITE=1 regenerates)"}`,
        ).toBe(mismatch.expected);
      }
    });
  }
});
