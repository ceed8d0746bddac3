// A peer server's KeyPackage claim answered from storage, through the frame
// codec both ways, as the federation driver will run it.

import { newDevice } from "@parley/cli/client";
import { decodeFrame, encodeFrame, type KeyPackageClaimResultFrame } from "@parley/federation";
import { createMlsCrypto, generateKeyPackages } from "@parley/mls";
import { makeUserId, parseServerName, parseUserId, type ServerName } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { answerKeyPackageClaim } from "../../src/federation/key-package-claims.ts";
import { KeyPackageService } from "../../src/key-packages/key-package-service.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Storage } from "../../src/storage/storage.ts";

const here = parseServerName("keys.test");
const peer = parseServerName("peer.test");
const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((storage) => storage.close()));
});

/** Bob with two devices, each with one one-time and one last-resort KeyPackage. */
async function serverWithBob() {
  const storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  opened.push(storage);
  await storage.migrations.migrateToLatest();
  const service = new KeyPackageService({
    storage,
    signatureProvider: nodeSignatureProvider,
    nowMs: () => Date.now(),
  });
  await storage.accounts.create({ localName: "bob", passwordHash: "h", createdAtMs: 1 });
  const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
  const user = makeUserId("bob", here);
  const devices = [newDevice(), newDevice()];
  for (const device of devices) {
    await storage.devices.create({
      deviceId: device.deviceId,
      localName: "bob",
      identityRecord: new Uint8Array([1]),
      attestation: new Uint8Array([2]),
      recordSequence: 1,
      createdAtMs: 1,
    });
    const batch = await generateKeyPackages(
      crypto,
      { user, keyPair: device.keyPair },
      { count: 1, nowMs: Date.now() },
    );
    await service.publish(
      { userId: user, deviceId: device.deviceId },
      {
        oneTime: batch.oneTime.map((bundle) => bundle.keyPackage),
        lastResort: batch.lastResort.keyPackage,
      },
    );
  }
  return { storage, service, user, devices };
}

async function claimOverTheWire(
  context: Parameters<typeof answerKeyPackageClaim>[0],
  users: readonly string[],
  requestId: number,
): Promise<KeyPackageClaimResultFrame> {
  const request = decodeFrame(
    encodeFrame({
      type: "key-package-claim",
      requestId,
      users: users.map(parseUserId),
    }),
  );
  if (request.type !== "key-package-claim") throw new Error("not a claim");
  const result = decodeFrame(encodeFrame(await answerKeyPackageClaim(context, peer, request)));
  if (result.type !== "key-package-claim-result") throw new Error("not a claim result");
  return result;
}

describe("KeyPackage claims from a peer server", () => {
  it("hands out one package per device, one-time ones once, and says who got nothing", async () => {
    const { service, user, devices } = await serverWithBob();
    const context = { claimer: service, localServer: here, isBlocked: () => false };
    const users = [user, `carol@${here}`, `dave@${peer}`];
    const first = await claimOverTheWire(context, users, 1);
    expect(first.requestId).toBe(1);
    expect(first.packages.map((one) => [one.device, one.lastResort]).sort()).toEqual(
      devices.map((device) => [device.deviceId, false]).sort(),
    );
    expect(first.failures.map((failure) => [failure.user, failure.code])).toEqual([
      [`carol@${here}`, "not_found"],
      [`dave@${peer}`, "unavailable"],
    ]);
    const second = await claimOverTheWire(context, [user], 2);
    expect(second.packages.map((one) => one.lastResort)).toEqual([true, true]);
    const firstBytes = first.packages.map((one) => Buffer.from(one.keyPackage).toString("hex"));
    for (const one of second.packages) {
      expect(firstBytes).not.toContain(Buffer.from(one.keyPackage).toString("hex"));
    }
  });

  it("refuses a blocked server without spending a package", async () => {
    const { storage, service, user, devices } = await serverWithBob();
    const blocked = (server: ServerName) => server === peer;
    const refused = await claimOverTheWire(
      { claimer: service, localServer: here, isBlocked: blocked },
      [user],
      7,
    );
    expect(refused.packages).toEqual([]);
    expect(refused.failures.map((failure) => failure.code)).toEqual(["forbidden"]);
    for (const device of devices) {
      expect(await storage.keyPackages.count(device.deviceId, Date.now())).toEqual({
        oneTime: 1,
        lastResort: true,
      });
    }
  });
});
