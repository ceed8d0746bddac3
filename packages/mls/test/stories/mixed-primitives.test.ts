import { describe, expect, test } from "vitest";
import { generateKeyPackages } from "../../src/key-package/generate.ts";
import { encryptMessage } from "../../src/member/application.ts";
import { prepareCommit } from "../../src/member/commit.ts";
import { createRoomGroup, joinFromWelcome } from "../../src/member/join.ts";
import { commitAccepted } from "../../src/member/ordering.ts";
import { processMessage } from "../../src/member/process.ts";
import { deviceIdentity, readText, testCrypto, testNowMs, testRoom, text } from "../devices.ts";

function expectKind<Value extends { readonly kind: string }, Kind extends Value["kind"]>(
  value: Value,
  kind: Kind,
): Extract<Value, { kind: Kind }> {
  if (value.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(value)}`);
  return value as Extract<Value, { kind: Kind }>;
}

describe("a device on node:crypto primitives and one on ts-mls's WebCrypto share a group", () => {
  test("join, messages both ways, and a commit each way", async () => {
    const nowMs = testNowMs();
    const fast = await testCrypto("node");
    const library = await testCrypto("webcrypto");
    const created = await createRoomGroup(fast, deviceIdentity("alice@example.org"), {
      roomId: testRoom,
      nowMs,
    });
    const bobPackages = await generateKeyPackages(library, deviceIdentity("bob@example.org"), {
      count: 1,
      nowMs,
    });
    const added = expectKind(
      await prepareCommit(
        created.member,
        { add: [bobPackages.oneTime[0]?.keyPackage ?? new Uint8Array()] },
        { nowMs },
      ),
      "prepared",
    ).pending;
    let alice = commitAccepted(created.member, added);
    let bob = expectKind(
      await joinFromWelcome(library, {
        roomId: testRoom,
        welcome: added.welcome ?? new Uint8Array(),
        ratchetTree: added.ratchetTree,
        keyPackages: bobPackages.oneTime,
      }),
      "joined",
    ).member;

    const toBob = expectKind(await encryptMessage(alice, text("to bob")), "encrypted");
    alice = toBob.member;
    const readByBob = expectKind(await processMessage(bob, toBob.message), "application");
    bob = readByBob.member;
    expect(readText(readByBob.plaintext)).toBe("to bob");

    const toAlice = expectKind(await encryptMessage(bob, text("to alice")), "encrypted");
    bob = toAlice.member;
    const readByAlice = expectKind(await processMessage(alice, toAlice.message), "application");
    alice = readByAlice.member;
    expect(readText(readByAlice.plaintext)).toBe("to alice");

    const bobUpdate = expectKind(await prepareCommit(bob, {}, { nowMs }), "prepared").pending;
    bob = commitAccepted(bob, bobUpdate);
    alice = expectKind(await processMessage(alice, bobUpdate.commit), "commit").member;
    const aliceUpdate = expectKind(await prepareCommit(alice, {}, { nowMs }), "prepared").pending;
    alice = commitAccepted(alice, aliceUpdate);
    bob = expectKind(await processMessage(bob, aliceUpdate.commit), "commit").member;

    const after = expectKind(await encryptMessage(alice, text("two epochs later")), "encrypted");
    const read = expectKind(await processMessage(bob, after.message), "application");
    expect(readText(read.plaintext)).toBe("two epochs later");
    const next = expectKind(await encryptMessage(after.member, text("tampered")), "encrypted");
    const tampered = Uint8Array.from(next.message);
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 1;
    const refused = await processMessage(read.member, tampered);
    expect(refused.kind === "failed" && refused.code).toBe("mls_authentication_failed");
  });
});
