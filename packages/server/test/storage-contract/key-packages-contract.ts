import { describe, expect, it } from "vitest";
import type { NewKeyPackage, Storage } from "../../src/index.ts";
import type { ContractContext } from "./contract.ts";
import { bytes, createAccount, createDevice, startMs, textBytes } from "./fixtures.ts";

const dayMs = 24 * 60 * 60 * 1000;

/** A stand-in KeyPackage: storage keeps bytes, it does not parse them. */
export function fakeKeyPackage(name: string, notAfterMs = startMs + 30 * dayMs): NewKeyPackage {
  return { reference: textBytes(`ref:${name}`), keyPackage: textBytes(`kp:${name}`), notAfterMs };
}

function names(packages: readonly { readonly keyPackage: Uint8Array }[]): string[] {
  return packages.map((claimed) => new TextDecoder().decode(claimed.keyPackage).slice(3));
}

export async function publishBatch(
  storage: Storage,
  deviceId: string,
  oneTime: readonly string[],
  lastResort: string | null,
) {
  return storage.keyPackages.publish({
    deviceId,
    oneTime: oneTime.map((name) => fakeKeyPackage(name)),
    lastResort: lastResort === null ? null : fakeKeyPackage(lastResort),
    publishedAtMs: startMs,
    oneTimeMax: 500,
  });
}

async function aliceWithPhone(storage: Storage): Promise<void> {
  await createAccount(storage, "alice");
  await createDevice(storage, "alice", "phone");
}

export function describeKeyPackageContract(context: ContractContext): void {
  describe("KeyPackages", () => {
    it("counts what a device published; publishing the same package again stores it once", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      expect(await storage.keyPackages.count("phone", startMs)).toEqual({
        oneTime: 0,
        lastResort: false,
      });
      const first = await publishBatch(storage, "phone", ["a", "b"], "last-1");
      expect(first).toEqual({
        kind: "published",
        oneTimeAdded: 2,
        oneTimeCount: 2,
        lastResort: true,
      });
      const again = await publishBatch(storage, "phone", ["b", "c"], null);
      expect(again).toEqual({
        kind: "published",
        oneTimeAdded: 1,
        oneTimeCount: 3,
        lastResort: true,
      });
      expect(await storage.keyPackages.count("phone", startMs)).toEqual({
        oneTime: 3,
        lastResort: true,
      });
    });

    it("a claim takes the oldest one-time package once, then the last-resort one, which stays", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      await publishBatch(storage, "phone", ["a"], "last-1");
      await storage.keyPackages.publish({
        deviceId: "phone",
        oneTime: [fakeKeyPackage("b")],
        lastResort: null,
        publishedAtMs: startMs + 1,
        oneTimeMax: 500,
      });
      const claims = [];
      for (let round = 0; round < 4; round += 1) {
        claims.push(...(await storage.keyPackages.claim(["phone"], startMs + 2)));
      }
      expect(names(claims)).toEqual(["a", "b", "last-1", "last-1"]);
      expect(claims.map((claimed) => claimed.lastResort)).toEqual([false, false, true, true]);
      expect(await storage.keyPackages.count("phone", startMs + 2)).toEqual({
        oneTime: 0,
        lastResort: true,
      });
      // A newer last-resort package replaces the old one.
      await publishBatch(storage, "phone", [], "last-2");
      expect(names(await storage.keyPackages.claim(["phone"], startMs + 2))).toEqual(["last-2"]);
    });

    it("claims one package per live device, in the order asked, and none for others", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      await createDevice(storage, "alice", "laptop");
      await createDevice(storage, "alice", "tablet");
      await publishBatch(storage, "phone", ["p1", "p2"], null);
      await publishBatch(storage, "laptop", ["l1"], null);
      await publishBatch(storage, "tablet", ["t1"], "t-last");
      expect(await storage.devices.revoke("tablet", startMs)).toBe(true);
      const claimed = await storage.keyPackages.claim(
        ["laptop", "phone", "tablet", "unknown", "phone"],
        startMs,
      );
      expect(claimed.map((one) => one.deviceId)).toEqual(["laptop", "phone"]);
      expect(names(claimed)).toEqual(["l1", "p1"]);
      expect(await publishBatch(storage, "tablet", ["t2"], null)).toEqual({
        kind: "unknown-device",
      });
      expect(await publishBatch(storage, "nobody", ["x"], null)).toEqual({
        kind: "unknown-device",
      });
    });

    it("never hands out an expired package, and sweeps expired ones", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      await storage.keyPackages.publish({
        deviceId: "phone",
        oneTime: [fakeKeyPackage("short", startMs + 10), fakeKeyPackage("long")],
        lastResort: fakeKeyPackage("last-short", startMs + 10),
        publishedAtMs: startMs,
        oneTimeMax: 500,
      });
      const later = startMs + 11;
      expect(await storage.keyPackages.count("phone", later)).toEqual({
        oneTime: 1,
        lastResort: false,
      });
      expect(names(await storage.keyPackages.claim(["phone"], later))).toEqual(["long"]);
      expect(await storage.keyPackages.claim(["phone"], later)).toEqual([]);
      expect(await storage.keyPackages.deleteExpired(later, 100)).toBe(2);
      expect(await storage.keyPackages.deleteExpired(later, 100)).toBe(0);
    });

    it("refuses a batch that would exceed the per-device bound, storing nothing", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      const publish = (oneTime: readonly string[]) =>
        storage.keyPackages.publish({
          deviceId: "phone",
          oneTime: oneTime.map((name) => fakeKeyPackage(name)),
          lastResort: fakeKeyPackage("last"),
          publishedAtMs: startMs,
          oneTimeMax: 3,
        });
      expect((await publish(["a", "b"])).kind).toBe("published");
      expect(await publish(["c", "d"])).toEqual({ kind: "too-many", oneTimeCount: 2 });
      // Re-published packages do not count twice.
      expect(await publish(["a", "b", "c"])).toEqual({
        kind: "published",
        oneTimeAdded: 1,
        oneTimeCount: 3,
        lastResort: true,
      });
    });

    it("refuses values over their bounds as a caller's bug", async () => {
      const storage = context.storage();
      await aliceWithPhone(storage);
      const huge = { ...fakeKeyPackage("huge"), keyPackage: new Uint8Array(4097) };
      await expect(
        storage.keyPackages.publish({
          deviceId: "phone",
          oneTime: [huge],
          lastResort: null,
          publishedAtMs: startMs,
          oneTimeMax: 500,
        }),
      ).rejects.toThrow(/exceeds/);
      const noReference = { ...fakeKeyPackage("x"), reference: bytes() };
      await expect(
        storage.keyPackages.publish({
          deviceId: "phone",
          oneTime: [noReference],
          lastResort: null,
          publishedAtMs: startMs,
          oneTimeMax: 500,
        }),
      ).rejects.toThrow(/empty/);
    });
  });
}

const oneTimeCount = 12;
const claimsPerHandle = 10;

/** Claims racing from two processes (handles with their own connection pools). */
export function describeKeyPackageConcurrencyContract(context: ContractContext): void {
  describe("KeyPackages claimed by several processes at once", () => {
    it("hands every one-time package out once, then the last-resort one", async () => {
      const openAnother = context.database().openAnother;
      if (openAnother === null) throw new Error("needs a backend shared across handles");
      const first = context.storage();
      const second = await openAnother();
      await createAccount(first, "alice");
      await createDevice(first, "alice", "phone");
      await createDevice(first, "alice", "laptop");
      const oneTime = Array.from({ length: oneTimeCount }, (_, index) => `p${index}`);
      await publishBatch(first, "phone", oneTime, "phone-last");
      await publishBatch(first, "laptop", ["l0"], "laptop-last");
      const claims = await Promise.all(
        Array.from({ length: 2 * claimsPerHandle }, (_, index) =>
          (index % 2 === 0 ? first : second).keyPackages.claim(
            index % 4 < 2 ? ["phone", "laptop"] : ["laptop", "phone"],
            startMs,
          ),
        ),
      );
      const claimed = claims.flat();
      const phone = names(claimed.filter((one) => one.deviceId === "phone"));
      expect(phone).toHaveLength(2 * claimsPerHandle);
      const phoneOneTime = phone.filter((name) => name !== "phone-last");
      expect(phoneOneTime.sort()).toEqual([...oneTime].sort());
      const laptop = names(claimed.filter((one) => one.deviceId === "laptop"));
      expect(laptop.filter((name) => name === "l0")).toHaveLength(1);
      expect(laptop.filter((name) => name === "laptop-last")).toHaveLength(2 * claimsPerHandle - 1);
      expect(await second.keyPackages.count("phone", startMs)).toEqual({
        oneTime: 0,
        lastResort: true,
      });
    });
  });
}
