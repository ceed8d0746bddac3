// A device's KeyPackages from the SDK against a real homeserver: published
// on connect, refilled when claims run them low, the last-resort one
// replaced when missing, and the private halves kept sealed in the store
// (openable with the state key, and matching what others claim).

import { ParleyClient as Client, MemoryStore, type ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { createMlsCrypto, openKeyPackages } from "@parley/mls";
import { decodeBase64url, encodeBase64url } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

const small = { keyPackagesTarget: 5, keyPackagesRefillBelow: 3 };

interface ClaimAnswer {
  packages: Array<{ userId: string; deviceId: string; keyPackage: string; lastResort: boolean }>;
  failures: unknown[];
}

/** Claims the user's KeyPackages over the client API, as another device adding them would. */
async function claim(claimer: MemoryStore, user: ParleyClient): Promise<ClaimAnswer> {
  const session = JSON.parse((await claimer.get("parley.session")) ?? "{}") as {
    accessToken: string;
  };
  const response = await fetch(`${homeserver.url}/_parley/client/v1/key-packages/claim`, {
    method: "POST",
    headers: { authorization: `Bearer ${session.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ users: [user.userId] }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as ClaimAnswer;
}

async function count(store: MemoryStore): Promise<{ oneTime: number; lastResort: boolean }> {
  const session = JSON.parse((await store.get("parley.session")) ?? "{}") as {
    accessToken: string;
  };
  const response = await fetch(`${homeserver.url}/_parley/client/v1/key-packages`, {
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
  return (await response.json()) as { oneTime: number; lastResort: boolean };
}

/** The private bundles the store holds, opened with the store's own state key. */
async function storedPackages(store: MemoryStore, user: ParleyClient): Promise<string[]> {
  const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
  const stateKey = decodeBase64url((await store.get("parley.mls.state-key")) ?? "");
  const sealed = decodeBase64url((await store.get("parley.mls.key-packages")) ?? "");
  const opened = await openKeyPackages(crypto, user.deviceId, sealed, stateKey);
  if (opened.kind === "failed") throw new Error(opened.detail);
  return opened.bundles.map((bundle) => encodeBase64url(bundle.keyPackage));
}

describe("KeyPackages from the SDK", () => {
  it("publishes a batch and a last-resort package, refills after claims, and keeps the private halves sealed", async () => {
    const aliceStore = new MemoryStore();
    const alice = await homeserver.user("alice", { store: aliceStore, encryption: small });
    const bobStore = new MemoryStore();
    await homeserver.user("bob", { store: bobStore });

    const first = await alice.refillKeyPackages();
    expect(first).toEqual({
      published: 5,
      lastResortReplaced: true,
      count: { oneTime: 5, lastResort: true },
    });
    expect(await alice.refillKeyPackages()).toMatchObject({
      published: 0,
      lastResortReplaced: false,
    });

    // Claims spend one-time packages; each claimed package is one the device can still open.
    const claimed: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      const answer = await claim(bobStore, alice);
      expect(answer.packages).toHaveLength(1);
      expect(answer.packages[0]?.lastResort).toBe(false);
      claimed.push(answer.packages[0]?.keyPackage ?? "");
    }
    expect(await count(aliceStore)).toEqual({ oneTime: 2, lastResort: true });
    const held = await storedPackages(aliceStore, alice);
    expect(held).toHaveLength(6);
    for (const keyPackage of claimed) expect(held).toContain(keyPackage);

    const second = await alice.refillKeyPackages();
    expect(second).toEqual({
      published: 3,
      lastResortReplaced: false,
      count: { oneTime: 5, lastResort: true },
    });
    // The secret keys never appear in the store unsealed: the record is a sealed blob.
    expect(await aliceStore.get("parley.mls.key-packages")).not.toContain(claimed[0] ?? "-");
  });

  it("hands out the last-resort package when one-time ones run out, and a restored device still holds every private half", async () => {
    const store = new MemoryStore();
    const carol = await homeserver.user("carol", {
      store,
      encryption: { keyPackagesTarget: 1, keyPackagesRefillBelow: 1 },
    });
    const bobStore = new MemoryStore();
    await homeserver.user("bob", { store: bobStore });
    await carol.refillKeyPackages();
    const oneTime = await claim(bobStore, carol);
    const lastResort = await claim(bobStore, carol);
    expect(oneTime.packages[0]?.lastResort).toBe(false);
    expect(lastResort.packages[0]?.lastResort).toBe(true);

    const restored = await Client.restore(
      nodeClientOptions({ store, encryption: { keyPackagesTarget: 1, keyPackagesRefillBelow: 1 } }),
    );
    if (restored === undefined) throw new Error("nothing to restore");
    const held = await storedPackages(store, restored);
    expect(held).toContain(oneTime.packages[0]?.keyPackage);
    expect(held).toContain(lastResort.packages[0]?.keyPackage);
    expect(await restored.refillKeyPackages()).toEqual({
      published: 1,
      lastResortReplaced: false,
      count: { oneTime: 1, lastResort: true },
    });
  });

  it("publishes by itself when the stream connects", async () => {
    const store = new MemoryStore();
    const dave = await homeserver.user("dave", { store, encryption: small });
    const errors: unknown[] = [];
    dave.on("error", (event) => errors.push(event.error));
    await dave.start();
    await dave.connected();
    let held = { oneTime: 0, lastResort: false };
    for (let attempt = 0; attempt < 200 && held.oneTime !== 5; attempt += 1) {
      held = await count(store);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(held).toEqual({ oneTime: 5, lastResort: true });
    expect(errors).toEqual([]);
    await dave.stop();
  });
});
