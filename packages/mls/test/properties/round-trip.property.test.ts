import fc from "fast-check";
import { encodeGroupState } from "ts-mls";
import { describe, expect, test } from "vitest";
import { encryptMessage } from "../../src/member/application.ts";
import { processMessage } from "../../src/member/process.ts";
import { openMemberState, sealMemberState } from "../../src/storage/sealed-state.ts";
import { testRoom } from "../devices.ts";
import { GroupStory } from "../story.ts";

describe("round trips for any input", () => {
  test("any payload and authenticated data that Alice encrypts, Bob decrypts unchanged", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.uint8Array({ maxLength: 64 }),
        async (plaintext, authenticatedData) => {
          const encrypted = await encryptMessage(story.member("alice"), plaintext, {
            authenticatedData,
          });
          if (encrypted.kind === "failed") throw new Error(encrypted.detail);
          story.setMember("alice", encrypted.member);
          const outcome = await processMessage(story.member("bob"), encrypted.message);
          if (outcome.kind !== "application") throw new Error(outcome.kind);
          story.setMember("bob", outcome.member);
          expect(outcome.plaintext).toEqual(plaintext);
          expect(outcome.authenticatedData).toEqual(authenticatedData);
        },
      ),
      { numRuns: 40 },
    );
  });

  test("a member sealed after any history opens to the same state and goes on", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.boolean(),
        async (messages, key, update) => {
          const sent: Uint8Array[] = [];
          for (let index = 0; index < messages; index += 1)
            sent.push(await story.send("alice", `m${index}`));
          if (update) await story.commit("alice", {});
          for (const message of sent.reverse()) await story.receive("bob", message);
          const sealed = await sealMemberState(story.member("bob"), key);
          const opened = await openMemberState(story.crypto, sealed, key, { roomId: testRoom });
          if (opened.kind === "failed") throw new Error(opened.detail);
          expect(encodeGroupState(opened.member.state)).toEqual(
            encodeGroupState(story.member("bob").state),
          );
          expect(opened.member.sequence).toBe(story.member("bob").sequence);
          story.setMember("bob", opened.member);
          for (const message of sent) {
            const replayed = await story.receive("bob", message);
            expect(replayed.kind === "failed" && replayed.code).toBe("mls_replayed");
          }
          await story.expectRead("bob", await story.send("alice", "after"), "after", "alice");
        },
      ),
      { numRuns: 8 },
    );
  });

  test("a sealed state with any one bit flipped does not open, and nothing throws", async () => {
    const story = await GroupStory.createdBy("alice");
    const key = new Uint8Array(32).fill(9);
    const sealed = await sealMemberState(story.member("alice"), key);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), async (bit) => {
        const flipped = Uint8Array.from(sealed);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        const opened = await openMemberState(story.crypto, flipped, key, { roomId: testRoom });
        expect(opened.kind === "failed" && opened.code).toBe("mls_sealed_state_invalid");
      }),
      { numRuns: 60 },
    );
  });

  test("any bytes given to a member are refused with a typed failure, never a throw", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const valid = await story.send("alice", "a valid message to mutate");
    const commit = (await story.prepare("alice", {})).commit;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc
            .tuple(fc.constantFrom(valid, commit), fc.nat(), fc.integer({ min: 1, max: 255 }))
            .map(([bytes, position, mask]) => {
              const mutated = Uint8Array.from(bytes);
              const index = position % mutated.length;
              mutated[index] = (mutated[index] ?? 0) ^ mask;
              return mutated;
            }),
        ),
        async (bytes) => {
          const outcome = await processMessage(story.member("bob"), bytes);
          expect(outcome.kind).toBe("failed");
        },
      ),
      { numRuns: 150 },
    );
  });
});
