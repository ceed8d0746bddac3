/**
 * Device identity as stories, part one: people link their devices, rotate
 * their records and revoke devices; a verifier elsewhere keeps a registry of
 * what it accepted. Each story builds its world from fixed seeds and the
 * fixed clock of the fixtures.
 */
import { describe, expect, test } from "vitest";
import { nodeSignatureProvider as provider } from "../../src/crypto/node-provider.ts";
import { areMutuallyLinked } from "../../src/device-record/links.ts";
import { DeviceRegistry } from "../../src/device-record/registry.ts";
import { verifyDeviceRevocation } from "../../src/device-record/revocation.ts";
import { verifyDeviceRecord } from "../../src/device-record/verify.ts";
import { parseUserId } from "../../src/identifiers/user-id.ts";
import { errorCodeOf } from "../error-code-of.ts";
import {
  dayMs,
  issueRecord,
  issueRevocation,
  keyPairOf,
  makeServer,
  minuteMs,
  startMs,
} from "../fixtures.ts";

const exampleOrg = makeServer(provider, "example.org");
const evilExample = makeServer(provider, "evil.example");
const now = startMs + minuteMs;

function verify(bytes: Uint8Array, nowMs = now) {
  return verifyDeviceRecord(bytes, { provider, serverKeys: exampleOrg.keys, nowMs });
}

describe("a user with two linked devices", () => {
  const laptop = keyPairOf(provider, "alice laptop");
  const phone = keyPairOf(provider, "alice phone");
  const tablet = keyPairOf(provider, "alice tablet");
  const alice = "alice@example.org";

  test("alice's laptop and phone list each other, so everyone sees one user with two devices", () => {
    const registry = new DeviceRegistry();
    const laptopRecord = verify(
      issueRecord(provider, { user: alice, device: laptop, server: exampleOrg, linked: [phone] }),
    );
    const phoneRecord = verify(
      issueRecord(provider, { user: alice, device: phone, server: exampleOrg, linked: [laptop] }),
    );
    expect(registry.offer(laptopRecord).kind).toBe("accepted");
    expect(registry.offer(phoneRecord).kind).toBe("accepted");

    expect(areMutuallyLinked(laptopRecord, phoneRecord)).toBe(true);
    const linked = registry.linkedDevices(laptopRecord.deviceId, now);
    expect(linked.map((record) => record.deviceId)).toEqual([phoneRecord.deviceId]);
    expect(registry.devicesOfUser(parseUserId(alice), now)).toHaveLength(2);
  });

  test("she adds a tablet: both old devices rotate to records that list it, and all three are linked", () => {
    const registry = new DeviceRegistry();
    const first = [
      issueRecord(provider, { user: alice, device: laptop, server: exampleOrg, linked: [phone] }),
      issueRecord(provider, { user: alice, device: phone, server: exampleOrg, linked: [laptop] }),
    ];
    for (const bytes of first) expect(registry.offer(verify(bytes)).kind).toBe("accepted");

    const later = startMs + dayMs;
    const rotated = [
      { device: laptop, sequence: 2, linked: [phone, tablet] },
      { device: phone, sequence: 2, linked: [laptop, tablet] },
      { device: tablet, sequence: 1, linked: [laptop, phone] },
    ].map((fields) =>
      issueRecord(provider, { ...fields, user: alice, server: exampleOrg, validFromMs: later }),
    );
    const records = rotated.map((bytes) => verify(bytes, later + minuteMs));
    const outcomes = records.map((record) => registry.offer(record));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["accepted", "accepted", "accepted"]);
    const laptopOutcome = outcomes[0];
    expect(laptopOutcome?.kind === "accepted" && laptopOutcome.superseded?.sequence).toBe(1);

    for (const record of records) {
      expect(registry.linkedDevices(record.deviceId, later + minuteMs)).toHaveLength(2);
    }
  });
});

describe("a one-sided link", () => {
  const laptop = keyPairOf(provider, "alice laptop");
  const mallorysPhone = keyPairOf(provider, "mallory phone");
  const rogue = keyPairOf(provider, "rogue device");
  const alice = "alice@example.org";
  const mallory = "mallory@example.org";

  test("mallory lists alice's laptop, but alice's laptop does not list mallory: nothing is linked", () => {
    const registry = new DeviceRegistry();
    const aliceLaptop = verify(
      issueRecord(provider, { user: alice, device: laptop, server: exampleOrg }),
    );
    const mallorysRecord = verify(
      issueRecord(provider, {
        user: mallory,
        device: mallorysPhone,
        server: exampleOrg,
        linked: [laptop],
      }),
    );
    registry.offer(aliceLaptop);
    registry.offer(mallorysRecord);
    expect(areMutuallyLinked(aliceLaptop, mallorysRecord)).toBe(false);
    expect(registry.linkedDevices(mallorysRecord.deviceId, now)).toEqual([]);
    expect(registry.linkedDevices(aliceLaptop.deviceId, now)).toEqual([]);
  });

  test("even listing each other does not link devices of two different users", () => {
    const aliceLaptop = verify(
      issueRecord(provider, {
        user: alice,
        device: laptop,
        server: exampleOrg,
        linked: [mallorysPhone],
      }),
    );
    const mallorysRecord = verify(
      issueRecord(provider, {
        user: mallory,
        device: mallorysPhone,
        server: exampleOrg,
        linked: [laptop],
      }),
    );
    expect(areMutuallyLinked(aliceLaptop, mallorysRecord)).toBe(false);
  });

  test("a device the homeserver attests for alice, but her devices do not list, is not linked to them", () => {
    const registry = new DeviceRegistry();
    const aliceLaptop = verify(
      issueRecord(provider, { user: alice, device: laptop, server: exampleOrg }),
    );
    const injected = verify(
      issueRecord(provider, { user: alice, device: rogue, server: exampleOrg, linked: [laptop] }),
    );
    registry.offer(aliceLaptop);
    registry.offer(injected);
    // The server's word alone puts it among alice's attested devices...
    expect(registry.devicesOfUser(parseUserId(alice), now)).toHaveLength(2);
    // ...but her own devices do not vouch for it.
    expect(registry.linkedDevices(aliceLaptop.deviceId, now)).toEqual([]);
    expect(registry.linkedDevices(injected.deviceId, now)).toEqual([]);
  });
});

describe("a replayed old record", () => {
  const phone = keyPairOf(provider, "bob phone");
  const bob = "bob@example.org";
  const first = issueRecord(provider, {
    user: bob,
    device: phone,
    server: exampleOrg,
    sequence: 1,
  });
  const second = issueRecord(provider, {
    user: bob,
    device: phone,
    server: exampleOrg,
    sequence: 2,
  });

  test("once sequence 2 is known, sequence 1 is refused as a replay", () => {
    const registry = new DeviceRegistry();
    expect(registry.offer(verify(first)).kind).toBe("accepted");
    expect(registry.offer(verify(second)).kind).toBe("accepted");
    const outcome = registry.offer(verify(first));
    expect(outcome.kind === "rejected" && outcome.error.code).toBe("record_replayed");
    expect(registry.current(verify(second).deviceId)?.sequence).toBe(2);
  });

  test("the same record delivered twice is harmless; a different record with the same sequence is not", () => {
    const registry = new DeviceRegistry();
    registry.offer(verify(second));
    expect(registry.offer(verify(second)).kind).toBe("unchanged");
    const equivocation = issueRecord(provider, {
      user: bob,
      device: phone,
      server: exampleOrg,
      sequence: 2,
      validFromMs: startMs + 1,
    });
    const outcome = registry.offer(verify(equivocation));
    expect(outcome.kind === "rejected" && outcome.error.code).toBe("record_replayed");
  });

  test("a device key stays with the user of its first record", () => {
    const registry = new DeviceRegistry();
    registry.offer(verify(first));
    const otherName = issueRecord(provider, {
      user: "carol@example.org",
      device: phone,
      server: exampleOrg,
      sequence: 3,
    });
    const outcome = registry.offer(verify(otherName));
    expect(outcome.kind === "rejected" && outcome.error.code).toBe("user_mismatch");
  });
});

describe("a revoked device", () => {
  const phone = keyPairOf(provider, "dave phone");
  const dave = "dave@example.org";
  const record = issueRecord(provider, {
    user: dave,
    device: phone,
    server: exampleOrg,
    sequence: 4,
  });
  const revokeAt = now + minuteMs;
  const atExampleOrg = { provider, serverKeys: exampleOrg.keys, nowMs: revokeAt };
  const atEvilExample = { provider, serverKeys: evilExample.keys, nowMs: revokeAt };

  test("dave retires his phone himself; no later record can bring it back", () => {
    const registry = new DeviceRegistry();
    const current = verify(record);
    registry.offer(current);
    const revocation = verifyDeviceRevocation(
      issueRevocation(provider, phone, dave, phone, revokeAt),
      atExampleOrg,
    );
    expect(revocation.signedBy).toBe("device");
    const outcome = registry.revoke(revocation);
    expect(outcome.kind === "revoked" && outcome.dropped?.sequence).toBe(4);
    expect(registry.current(current.deviceId)).toBeUndefined();

    const comeback = issueRecord(provider, {
      user: dave,
      device: phone,
      server: exampleOrg,
      sequence: 99,
      validFromMs: revokeAt,
    });
    const refused = registry.offer(verify(comeback, revokeAt + minuteMs));
    expect(refused.kind === "rejected" && refused.error.code).toBe("device_revoked");
    expect(registry.revoke(revocation).kind).toBe("unchanged");
  });

  test("his homeserver revokes his lost phone; the revocation arrives before the record and still wins", () => {
    const registry = new DeviceRegistry();
    const revocation = verifyDeviceRevocation(
      issueRevocation(provider, exampleOrg.keyPair, dave, phone, revokeAt),
      atExampleOrg,
    );
    expect(revocation.signedBy).toBe("server");
    expect(registry.revoke(revocation).kind).toBe("revoked");
    const outcome = registry.offer(verify(record));
    expect(outcome.kind === "rejected" && outcome.error.code).toBe("device_revoked");
  });

  test("another homeserver cannot revoke dave's phone", () => {
    const forged = issueRevocation(provider, evilExample.keyPair, dave, phone, revokeAt);
    expect(errorCodeOf(() => verifyDeviceRevocation(forged, atExampleOrg))).toBe(
      "server_key_unknown",
    );

    // Signed for one of its own users instead, it verifies, but only ever concerns that user.
    const registry = new DeviceRegistry();
    const ownUser = verifyDeviceRevocation(
      issueRevocation(provider, evilExample.keyPair, "eve@evil.example", phone, revokeAt),
      atEvilExample,
    );
    expect(registry.revoke(ownUser).kind).toBe("revoked");
    expect(registry.offer(verify(record)).kind).toBe("accepted");
    expect(registry.revoke(ownUser).kind).toBe("unchanged");

    // Once the phone is known to be dave's, evil.example's word about it is refused outright.
    const another = verifyDeviceRevocation(
      issueRevocation(provider, evilExample.keyPair, "zed@evil.example", phone, revokeAt),
      atEvilExample,
    );
    const refused = registry.revoke(another);
    expect(refused.kind === "rejected" && refused.error.code).toBe("user_mismatch");
    expect(registry.current(verify(record).deviceId)?.sequence).toBe(4);
  });

  test("a revocation signed by some other device does not verify", () => {
    const stranger = keyPairOf(provider, "stranger");
    const forged = issueRevocation(provider, stranger, dave, phone, revokeAt);
    expect(errorCodeOf(() => verifyDeviceRevocation(forged, atExampleOrg))).toBe(
      "server_key_unknown",
    );
  });
});
