import { describe, expect, test } from "vitest";
import { GroupStory } from "../../test/story.ts";
import { mlsLimits } from "../limits.ts";
import { failureFromLibrary } from "./failure.ts";

/**
 * failure.ts reads ts-mls's error names and two messages. The replay and
 * "too far ahead" cases are produced for real here, so a ts-mls that words
 * them differently fails this test rather than misclassifying in production.
 */
describe("failures from ts-mls", () => {
  test("a message far beyond the sender's last one is refused as too far ahead", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    let last: Uint8Array = new Uint8Array();
    for (let index = 0; index <= mlsLimits.forwardRatchetStepsMax + 1; index += 1) {
      last = await story.send("bob", "x");
    }
    const outcome = await story.receive("alice", last);
    expect(outcome.kind === "failed" && outcome.code).toBe("mls_generation_too_far");
  }, 120_000);

  test("error classes map to codes, and nothing unknown is called an authentication failure", () => {
    const named = (name: string, message = "m") => Object.assign(new Error(message), { name });
    expect(failureFromLibrary(named("CodecError"), "x").code).toBe("mls_malformed");
    expect(failureFromLibrary(named("CryptoVerificationError"), "x").code).toBe(
      "mls_authentication_failed",
    );
    expect(failureFromLibrary(named("OperationError"), "x").code).toBe("mls_authentication_failed");
    expect(failureFromLibrary(new Error("aes/gcm: invalid tag"), "x").code).toBe(
      "mls_authentication_failed",
    );
    expect(failureFromLibrary(named("ValidationError"), "x").code).toBe("mls_rule_violation");
    expect(failureFromLibrary(named("UsageError"), "x").code).toBe("mls_internal");
    expect(failureFromLibrary(new TypeError("oops"), "x").code).toBe("mls_internal");
    expect(failureFromLibrary("a string", "x").code).toBe("mls_internal");
  });
});
