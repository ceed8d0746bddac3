import { describe, expect, test } from "vitest";
import { sealingKeyBytes } from "../../src/storage/envelope.ts";
import { openMemberState, sealMemberState } from "../../src/storage/sealed-state.ts";
import { otherRoom, testRoom } from "../devices.ts";
import { GroupStory } from "../story.ts";

const bobKey = new Uint8Array(sealingKeyBytes).fill(7);

describe("a restarted member", () => {
  test("continues from its sealed state: reads new messages, processes commits, refuses replays", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    const first = await story.send("alice", "before the restart");
    await story.expectRead("bob", first, "before the restart");

    // Bob seals his state after processing, as the package asks, and restarts.
    const sealed = await sealMemberState(story.member("bob"), bobKey);
    const reopened = await openMemberState(story.crypto, sealed, bobKey, { roomId: testRoom });
    if (reopened.kind !== "opened") throw new Error(reopened.detail);
    expect(reopened.member.sequence).toBe(story.member("bob").sequence);
    story.setMember("bob", reopened.member);

    // A message he already processed before the restart is a replay.
    const replayed = await story.receive("bob", first);
    expect(replayed.kind === "failed" && replayed.code).toBe("mls_replayed");

    // New messages read, and commits process.
    await story.expectRead(
      "bob",
      await story.send("carol", "after the restart"),
      "after the restart",
      "carol",
    );
    await story.remove("alice", "carol");
    await story.expectRead("bob", await story.send("alice", "new epoch"), "new epoch", "alice");
    await story.expectRead("alice", await story.send("bob", "bob is back"), "bob is back", "bob");
  });

  test("sealed state opens only with its key, for its room", async () => {
    const story = await GroupStory.createdBy("alice");
    const sealed = await sealMemberState(story.member("alice"), bobKey);
    const wrongKey = await openMemberState(story.crypto, sealed, new Uint8Array(32), {
      roomId: testRoom,
    });
    expect(wrongKey.kind === "failed" && wrongKey.code).toBe("mls_sealed_state_invalid");
    const wrongRoom = await openMemberState(story.crypto, sealed, bobKey, { roomId: otherRoom });
    expect(wrongRoom.kind === "failed" && wrongRoom.code).toBe("mls_sealed_state_invalid");
    const tampered = Uint8Array.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    const opened = await openMemberState(story.crypto, tampered, bobKey, { roomId: testRoom });
    expect(opened.kind === "failed" && opened.code).toBe("mls_sealed_state_invalid");
  });
});
