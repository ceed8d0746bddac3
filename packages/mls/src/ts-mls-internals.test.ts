import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { GroupStory } from "../test/story.ts";
import { decodeWire } from "./group/wire.ts";
import { encryptMessage } from "./member/application.ts";
import { externalJoinAccepted, prepareExternalJoin } from "./member/external-join.ts";
import { ownLeafIndex } from "./member/member.ts";
import { externalJoinMaterial } from "./sponsor/public-group.ts";
import { encodeContext, pinnedTsMlsVersion, privateMessageSenderLeaf } from "./ts-mls-internals.ts";

/**
 * These tests exist to fail when ts-mls changes under the internal imports
 * of ts-mls-internals.ts. The stories check the same agreement on every
 * commit they order; here every kind of commit is in one place.
 */
describe("ts-mls internals", () => {
  test("ts-mls is exactly the version the internals were read from", () => {
    const entry = createRequire(import.meta.url).resolve("ts-mls");
    let directory = dirname(entry);
    while (!directory.endsWith("ts-mls")) directory = dirname(directory);
    const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
      version: string;
    };
    expect(manifest.version).toBe(pinnedTsMlsVersion);
  });

  test("a sponsor reaches the members' group context for every kind of commit", async () => {
    const story = await GroupStory.createdBy("alice");
    const sponsorContext = () => encodeContext(story.sponsor?.context ?? ({} as never));
    await story.add("alice", "bob", "carol", "dave"); // adds without a path
    await story.commit("bob", {}); // an update
    await story.remove("carol", "dave"); // a remove with a path
    await story.proposeLeave("bob");
    await story.commit("alice", {}); // a Remove by reference
    expect(sponsorContext()).toEqual(encodeContext(story.member("carol").state.groupContext));

    // An external join by a new device, then a rejoin that replaces a leaf.
    for (const [name, identity] of [
      ["erin", story.device("erin").identity],
      ["carol", story.device("carol").identity],
    ] as const) {
      const material =
        story.sponsor === undefined ? undefined : externalJoinMaterial(story.sponsor);
      if (material === undefined) throw new Error("no GroupInfo");
      const prepared = await prepareExternalJoin(story.crypto, identity, {
        roomId: story.member("alice").roomId,
        ...material,
        nowMs: story.nowMs,
      });
      if (prepared.kind === "failed") throw new Error(prepared.detail);
      await story.sponsorChecks(prepared.pending);
      expect(sponsorContext()).toEqual(encodeContext(prepared.pending.newState.groupContext));
      story.setMember(name, externalJoinAccepted(story.crypto, prepared.pending));
      const processed = await story.receive("alice", prepared.pending.commit);
      expect(processed.kind).toBe("commit");
    }
    expect(sponsorContext()).toEqual(encodeContext(story.member("alice").state.groupContext));
  });

  test("the sender of a message, by ratchet or by sender data, is the same leaf", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    const encrypted = await encryptMessage(story.member("carol"), new Uint8Array([1, 2, 3]));
    if (encrypted.kind === "failed") throw new Error(encrypted.detail);
    const decoded = decodeWire(encrypted.message, "mls_private_message");
    if (decoded.kind === "failed") throw new Error(decoded.detail);
    const bob = story.member("bob");
    const bySenderData = await privateMessageSenderLeaf(
      decoded.value,
      bob.state.keySchedule.senderDataSecret,
      story.crypto.cipherSuite,
    );
    expect(bySenderData).toBe(ownLeafIndex(story.member("carol")));
    const outcome = await story.receive("bob", encrypted.message);
    expect(outcome.kind === "application" && outcome.sender.leafIndex).toBe(bySenderData);
  });
});
