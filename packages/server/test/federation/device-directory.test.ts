// The device directory's cache rules (docs/protocol.md §12.14.2–3) on a
// manual clock and a fetcher that serves what a test publishes and counts
// its calls: no network.

import {
  deviceIdFromPublicKey,
  nobleSignatureProvider,
  ParleyError,
  parseServerName,
  parseUserId,
  verifyServerKeyDocument,
} from "@parley/protocol";
import { silentLogger } from "@parley/server/testing";
import { describe, expect, it } from "vitest";
import { DeviceDirectory } from "../../src/federation/device-directory.ts";
import { PublishingServer } from "./published-devices.ts";

const provider = nobleSignatureProvider;
const server = parseServerName("home.test");
const gina = parseUserId("gina@home.test");

function setup(options: { lifetimeMs?: number } = {}) {
  const home = new PublishingServer(server);
  const clock = { nowMs: Date.now() };
  const fetches = { count: 0, failing: false };
  const directory = new DeviceDirectory({
    provider,
    nowMs: () => clock.nowMs,
    self: () => parseServerName("self.test"),
    keys: {
      lookup: async () =>
        verifyServerKeyDocument(home.keyDocument, {
          provider,
          nowMs: Date.now(),
          expectedServer: server,
        }),
    },
    fetchList: async (_server, user) => {
      fetches.count += 1;
      if (fetches.failing) throw new ParleyError("unavailable", "down");
      return home.listOf(user);
    },
    localList: () => Promise.reject(new Error("no local users here")),
    logger: silentLogger(),
    ...(options.lifetimeMs === undefined ? {} : { listLifetimeMs: options.lifetimeMs }),
  });
  return { home, clock, fetches, directory };
}

const phone = provider.generateKeyPair();
const laptop = provider.generateKeyPair();
const phoneId = deviceIdFromPublicKey(phone.publicKey);
const laptopId = deviceIdFromPublicKey(laptop.publicKey);

describe("the device directory", () => {
  it("knows nothing before a fetch, and one fetch serves concurrent askers", async () => {
    const { home, clock, fetches, directory } = setup();
    home.publish(gina, [home.record(gina, phone)]);
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "unknown" });
    const since = clock.nowMs;
    await Promise.all([directory.settle([gina], since), directory.settle([gina, gina], since)]);
    expect(fetches.count).toBe(1);
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
  });

  it("believes a list that lacks a device only when it was fetched after the message came", async () => {
    const { home, clock, fetches, directory } = setup();
    home.publish(gina, [home.record(gina, phone)]);
    await directory.settle([gina], clock.nowMs);
    // The laptop is newer than the cached list: the cache cannot tell.
    home.publish(gina, [home.record(gina, phone), home.record(gina, laptop)]);
    clock.nowMs += 10;
    expect(directory.verdict(gina, laptopId, clock.nowMs)).toEqual({ kind: "unknown" });
    const stranger = deviceIdFromPublicKey(provider.generateKeyPair().publicKey);
    expect(directory.verdict(gina, stranger, clock.nowMs)).toEqual({ kind: "unknown" });
    const since = clock.nowMs;
    await directory.settle([gina], since);
    expect(fetches.count).toBe(2);
    expect(directory.verdict(gina, laptopId, clock.nowMs, since)).toEqual({ kind: "bound" });
    expect(directory.verdict(gina, stranger, clock.nowMs, since)).toEqual({
      kind: "refused",
      code: "user_mismatch",
    });
    // Settling again for the same moment fetches nothing more.
    await directory.settle([gina], since);
    expect(fetches.count).toBe(2);
  });

  it("refuses a revoked device's messages from the revocation on", async () => {
    const { home, clock, directory } = setup();
    const revokedAtMs = clock.nowMs - 1000;
    home.publish(gina, [home.record(gina, phone)], [home.revocation(gina, phone, revokedAtMs)]);
    await directory.settle([gina], clock.nowMs);
    expect(directory.verdict(gina, phoneId, revokedAtMs)).toEqual({
      kind: "refused",
      code: "device_revoked",
    });
    expect(directory.verdict(gina, phoneId, revokedAtMs - 1)).toEqual({ kind: "bound" });
  });

  it("answers from an old list while a fresh one is fetched in the background", async () => {
    const { home, clock, fetches, directory } = setup({ lifetimeMs: 60_000 });
    home.publish(gina, [home.record(gina, phone)]);
    await directory.settle([gina], clock.nowMs);
    home.publish(gina, [home.record(gina, phone)], [home.revocation(gina, phone, clock.nowMs)]);
    clock.nowMs += 60_000;
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    await expect.poll(() => directory.verdict(gina, phoneId, clock.nowMs).kind).toBe("refused");
    expect(fetches.count).toBe(2);
  });

  it("keeps the old list when the homeserver is unreachable, and waits before asking again", async () => {
    const { home, clock, fetches, directory } = setup({ lifetimeMs: 0 });
    home.publish(gina, [home.record(gina, phone)]);
    expect(await directory.check(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    fetches.failing = true;
    clock.nowMs += 1;
    expect(await directory.check(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    expect(fetches.count).toBe(2);
    clock.nowMs += 1;
    expect(await directory.check(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    expect(fetches.count).toBe(2);
    // Never fetched, and unreachable: a sponsor cannot tell.
    const hugo = parseUserId("hugo@home.test");
    expect(await directory.check(hugo, phoneId, clock.nowMs)).toEqual({ kind: "unknown" });
  });

  it("takes a pushed list only from the user's homeserver, for users it asked about", async () => {
    const { home, clock, fetches, directory } = setup();
    home.publish(gina, [home.record(gina, phone)], [home.revocation(gina, phone, clock.nowMs)]);
    const revoked = home.listOf(gina);
    const revoking = () => revoked;
    home.publish(gina, [home.record(gina, phone)]);
    await directory.offer(server, gina, revoking());
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "unknown" });
    await directory.settle([gina], clock.nowMs);
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    await directory.offer(parseServerName("other.test"), gina, revoking());
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    await directory.offer(server, gina, Uint8Array.of(0xff));
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({ kind: "bound" });
    const count = fetches.count;
    await directory.offer(server, gina, revoking());
    expect(directory.verdict(gina, phoneId, clock.nowMs)).toEqual({
      kind: "refused",
      code: "device_revoked",
    });
    expect(fetches.count).toBe(count);
  });

  it("takes a list that does not verify for an empty one", async () => {
    const { home, clock, directory } = setup();
    const forged = home.record(gina, laptop, provider.generateKeyPair());
    home.publish(gina, [home.record(gina, phone), forged]);
    expect(await directory.check(gina, phoneId, clock.nowMs)).toEqual({
      kind: "refused",
      code: "user_mismatch",
    });
  });
});

describe("the device directory, for this server's own users", () => {
  it("answers from the device table, and forgets a user whose device was revoked here", async () => {
    const self = parseServerName("self.test");
    const ivy = parseUserId("ivy@self.test");
    const revoked = new Map<ReturnType<typeof deviceIdFromPublicKey>, number>();
    const nowMs = Date.now();
    const directory = new DeviceDirectory({
      provider,
      nowMs: () => nowMs,
      self: () => self,
      keys: { lookup: () => Promise.reject(new Error("own users need no key document")) },
      fetchList: () => Promise.reject(new Error("own users are not fetched")),
      localList: async (user) => ({
        user,
        bound: new Set(revoked.has(phoneId) ? [] : [phoneId]),
        revokedAtMs: new Map(revoked),
      }),
      logger: silentLogger(),
    });
    expect(await directory.check(ivy, phoneId, nowMs)).toEqual({ kind: "bound" });
    revoked.set(phoneId, nowMs - 1);
    // Cached for its lifetime, until told.
    expect(directory.verdict(ivy, phoneId, nowMs)).toEqual({ kind: "bound" });
    directory.forget(ivy);
    expect(await directory.check(ivy, phoneId, nowMs)).toEqual({
      kind: "refused",
      code: "device_revoked",
    });
  });
});
