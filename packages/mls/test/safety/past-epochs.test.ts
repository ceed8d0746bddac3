import { describe, expect, test } from "vitest";
import { mlsLimits } from "../../src/limits.ts";
import { GroupStory } from "../story.ts";

describe(`application messages of the last ${mlsLimits.pastEpochWindow} epochs still decrypt`, () => {
  test("a message from each past epoch: those inside the window read, older ones are refused", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const window = story.crypto.pastEpochWindow;
    // Bob sends one message per epoch; Alice moves on without reading any.
    const sent: Uint8Array[] = [];
    for (let epoch = 0; epoch <= window + 1; epoch += 1) {
      sent.push(await story.send("bob", `message ${epoch}`));
      await story.commit("alice", {});
    }
    // Alice is now window + 2 epochs past the first message.
    for (const [index, message] of sent.entries()) {
      const age = sent.length - index;
      const outcome = await story.receive("alice", message);
      if (age <= window) {
        expect(outcome.kind, `a message ${age} epochs old`).toBe("application");
      } else {
        expect(outcome.kind === "failed" && outcome.code, `a message ${age} epochs old`).toBe(
          "mls_epoch_too_old",
        );
      }
    }
  });

  test("messages of one sender out of order read; a message seen twice is a replay", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const messages: Uint8Array[] = [];
    for (let index = 0; index < 5; index += 1)
      messages.push(await story.send("bob", `number ${index}`));
    for (const index of [4, 0, 3, 1, 2]) {
      await story.expectRead(
        "alice",
        messages[index] ?? new Uint8Array(),
        `number ${index}`,
        "bob",
      );
    }
    const again = await story.receive("alice", messages[2] ?? new Uint8Array());
    expect(again.kind === "failed" && again.code).toBe("mls_replayed");
  });
});
