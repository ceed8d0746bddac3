import { describe, expect, test } from "vitest";
import { deviceIdentity, testCrypto, testNowMs } from "../../test/devices.ts";
import { mlsLimits } from "../limits.ts";
import { openKeyPackages, sealKeyPackages } from "../storage/sealed-state.ts";
import { credentialOfBundle, generateKeyPackages } from "./generate.ts";
import { verifyKeyPackageBytes } from "./verify.ts";

const dave = deviceIdentity("dave@example.org");
const key = new Uint8Array(32).fill(3);

describe("KeyPackages", () => {
  test("a batch is one-time KeyPackages and one last-resort one, all distinct", async () => {
    const crypto = await testCrypto();
    const nowMs = testNowMs();
    const batch = await generateKeyPackages(crypto, dave, { count: 3, nowMs });
    expect(batch.oneTime.map((bundle) => bundle.lastResort)).toEqual([false, false, false]);
    expect(batch.lastResort.lastResort).toBe(true);
    const references = [...batch.oneTime, batch.lastResort].map((bundle) =>
      Buffer.from(bundle.reference).toString("hex"),
    );
    expect(new Set(references).size).toBe(4);
    const verified = await verifyKeyPackageBytes(crypto, batch.lastResort.keyPackage, nowMs);
    if (verified.kind !== "valid") throw new Error(verified.detail);
    expect(verified.keyPackage.lastResort).toBe(true);
    expect(verified.keyPackage.user).toBe("dave@example.org");
    expect(verified.keyPackage.device).toBe(credentialOfBundle(batch.lastResort).device);
  });

  test("a KeyPackage is valid only within its lifetime, by the caller's clock", async () => {
    const crypto = await testCrypto();
    const nowMs = testNowMs();
    const [bundle] = (await generateKeyPackages(crypto, dave, { count: 1, nowMs })).oneTime;
    if (bundle === undefined) throw new Error("no bundle");
    const expired = await verifyKeyPackageBytes(
      crypto,
      bundle.keyPackage,
      nowMs + mlsLimits.keyPackageLifetimeMs + 2 * mlsLimits.keyPackageClockSkewMs,
    );
    expect(expired.kind === "failed" && expired.code).toBe("mls_key_package_invalid");
    const early = await verifyKeyPackageBytes(
      crypto,
      bundle.keyPackage,
      nowMs - 3 * mlsLimits.keyPackageClockSkewMs,
    );
    expect(early.kind === "failed" && early.code).toBe("mls_key_package_invalid");
  });

  test("a tampered KeyPackage does not verify", async () => {
    const crypto = await testCrypto();
    const nowMs = testNowMs();
    const bundle = (await generateKeyPackages(crypto, dave, { count: 0, nowMs })).lastResort;
    for (const offset of [20, 60, bundle.keyPackage.length - 5]) {
      const tampered = Uint8Array.from(bundle.keyPackage);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x10;
      const verified = await verifyKeyPackageBytes(crypto, tampered, nowMs);
      expect(verified.kind).toBe("failed");
    }
    const truncated = await verifyKeyPackageBytes(
      crypto,
      bundle.keyPackage.subarray(0, 100),
      nowMs,
    );
    expect(truncated.kind === "failed" && truncated.code).toBe("mls_malformed");
  });

  test("private bundles seal and open for their device only", async () => {
    const crypto = await testCrypto();
    const batch = await generateKeyPackages(crypto, dave, { count: 2, nowMs: testNowMs() });
    const bundles = [...batch.oneTime, batch.lastResort];
    const device = credentialOfBundle(batch.lastResort).device;
    const sealed = await sealKeyPackages(crypto, device, bundles, key);
    const opened = await openKeyPackages(crypto, device, sealed, key);
    if (opened.kind !== "opened") throw new Error(opened.detail);
    expect(opened.bundles.map((bundle) => bundle.reference)).toEqual(
      bundles.map((bundle) => bundle.reference),
    );
    expect(opened.bundles.map((bundle) => bundle.privatePackage)).toEqual(
      bundles.map((bundle) => bundle.privatePackage),
    );
    const otherDevice = credentialOfBundle(
      (
        await generateKeyPackages(crypto, deviceIdentity("erin@example.org"), {
          count: 0,
          nowMs: testNowMs(),
        })
      ).lastResort,
    ).device;
    const wrongScope = await openKeyPackages(crypto, otherDevice, sealed, key);
    expect(wrongScope.kind === "failed" && wrongScope.code).toBe("mls_sealed_state_invalid");
  });
});
