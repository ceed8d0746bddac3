import { describe, expect, test } from "vitest";
import { GroupStory } from "../story.ts";

describe("three members create a group, chat, add a fourth, remove one", () => {
  test.each(["webcrypto", "node"] as const)("the story, %s primitives", async (primitives) => {
    const story = await GroupStory.createdBy("alice", primitives);
    await story.add("alice", "bob", "carol");

    const hello = await story.send("alice", "hello bob and carol");
    await story.expectRead("bob", hello, "hello bob and carol", "alice");
    await story.expectRead("carol", hello, "hello bob and carol", "alice");

    const welcome = await story.add("bob", "dave");
    expect(welcome.change.added.map((member) => member.user)).toEqual(["dave@example.org"]);
    const hi = await story.send("dave", "hi all");
    for (const name of ["alice", "bob", "carol"])
      await story.expectRead(name, hi, "hi all", "dave");

    const removal = await story.remove("alice", "carol");
    expect(removal.change.removed.map((member) => member.user)).toEqual(["carol@example.org"]);
    const secret = await story.send("bob", "carol is gone");
    await story.expectRead("dave", secret, "carol is gone", "bob");
    const carol = await story.receive("carol", secret);
    expect(carol.kind === "failed" && carol.code).toBe("mls_not_member");
  });
});
