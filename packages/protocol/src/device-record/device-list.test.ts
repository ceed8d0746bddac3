import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { errorCodeOf } from "../../test/error-code-of.ts";
import {
  dayMs,
  issueRecord,
  issueRevocation,
  keyPairOf,
  makeServer,
  minuteMs,
  startMs,
} from "../../test/fixtures.ts";
import { encodeCanonical } from "../codec/encode.ts";
import { nodeSignatureProvider as provider } from "../crypto/node-provider.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { deviceIdFromPublicKey } from "../identifiers/device-id.ts";
import { parseUserId } from "../identifiers/user-id.ts";
import { deviceBinding, encodeDeviceList, verifyDeviceList } from "./device-list.ts";

const home = makeServer(provider, "example.org");
/** A server claiming to be gina's homeserver with a key its key document does not list. */
const impostor = makeServer(provider, "example.org", "impostor key");
const phone = keyPairOf(provider, "list phone");
const laptop = keyPairOf(provider, "list laptop");
const stolen = keyPairOf(provider, "list stolen");
const gina = parseUserId("gina@example.org");
const now = startMs + minuteMs;
const revokedAtMs = startMs + 30_000;

function list(records: Uint8Array[], revocations: Uint8Array[] = [], user = gina): Uint8Array {
  return encodeDeviceList({ user, records, revocations });
}

function verify(bytes: Uint8Array, nowMs = now) {
  return verifyDeviceList(bytes, { user: gina, provider, serverKeys: home.keys, nowMs });
}

const phoneRecord = issueRecord(provider, { user: gina, device: phone, server: home });
const laptopRecord = issueRecord(provider, { user: gina, device: laptop, server: home });
const stolenRecord = issueRecord(provider, { user: gina, device: stolen, server: home });
const stolenRevocation = issueRevocation(provider, home.keyPair, gina, stolen, revokedAtMs);

describe("a user's device list", () => {
  test("binds its live devices and marks revoked ones from their revocation time", () => {
    const verified = verify(list([phoneRecord, laptopRecord, stolenRecord], [stolenRevocation]));
    const id = (device: typeof phone) => deviceIdFromPublicKey(device.publicKey);
    expect(deviceBinding(verified, id(phone), now)).toEqual({ kind: "bound" });
    expect(deviceBinding(verified, id(laptop), now)).toEqual({ kind: "bound" });
    expect(deviceBinding(verified, id(stolen), revokedAtMs)).toEqual({
      kind: "revoked",
      revokedAtMs,
    });
    // Sent before the revocation: the device was good then.
    expect(deviceBinding(verified, id(stolen), revokedAtMs - 1)).toEqual({ kind: "bound" });
    const stranger = keyPairOf(provider, "list stranger");
    expect(deviceBinding(verified, id(stranger), now)).toEqual({ kind: "unbound" });
  });

  test("skips records outside their window: an expired record binds nothing", () => {
    const verified = verify(list([phoneRecord]), startMs + 91 * dayMs);
    expect(verified.bound.size).toBe(0);
  });

  test("is refused whole when one entry is forged or names another user", () => {
    const otherUser = issueRecord(provider, {
      user: "mallory@example.org",
      device: laptop,
      server: home,
    });
    expect(errorCodeOf(() => verify(list([phoneRecord, otherUser])))).toBe("user_mismatch");
    // Attested by a key gina's homeserver does not list: not its word.
    const forged = issueRecord(provider, { user: gina, device: laptop, server: impostor });
    expect(errorCodeOf(() => verify(list([phoneRecord, forged])))).toBe("server_key_unknown");
    const tampered = Uint8Array.from(laptopRecord);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
    expect(errorCodeOf(() => verify(list([phoneRecord, tampered])))).toBe("signature_invalid");
    const revokedByOther = issueRevocation(provider, impostor.keyPair, gina, phone, revokedAtMs);
    expect(errorCodeOf(() => verify(list([phoneRecord], [revokedByOther])))).toBe(
      "server_key_unknown",
    );
  });

  test("is refused when it is for another user, or of another server's user", () => {
    expect(errorCodeOf(() => verify(list([], [], parseUserId("hugo@example.org"))))).toBe(
      "user_mismatch",
    );
    const foreign = parseUserId("gina@elsewhere.org");
    const bytes = list([], [], foreign);
    expect(
      errorCodeOf(() =>
        verifyDeviceList(bytes, { user: foreign, provider, serverKeys: home.keys, nowMs: now }),
      ),
    ).toBe("server_mismatch");
  });

  test("is refused when it breaks its limits or shape", () => {
    const tooMany = Array.from({ length: 33 }, () => phoneRecord);
    expect(errorCodeOf(() => verify(list(tooMany)))).toBe("bad_structure");
    const extra = encodeCanonical({
      version: 1,
      user: gina,
      records: [],
      revocations: [],
      extra: 1,
    });
    expect(errorCodeOf(() => verify(extra))).toBe("bad_structure");
    expect(errorCodeOf(() => verify(new Uint8Array([0xff])))).toBe("bad_encoding");
  });
});

describe("a user's device list, property", () => {
  const devices = [phone, laptop, stolen];
  const records = [phoneRecord, laptopRecord, stolenRecord];
  const listArbitrary = fc
    .record({
      recorded: fc.subarray([0, 1, 2]),
      revoked: fc.subarray([0, 1, 2]),
    })
    .map(({ recorded, revoked }) => ({
      recorded,
      revoked,
      bytes: list(
        recorded.map((index) => records[index] ?? phoneRecord),
        revoked.map((index) =>
          issueRevocation(provider, home.keyPair, gina, devices[index] ?? phone, revokedAtMs),
        ),
      ),
    }));

  test("binds exactly the recorded devices that are not revoked", () => {
    fc.assert(
      fc.property(listArbitrary, ({ recorded, revoked, bytes }) => {
        const verified = verify(bytes);
        const expected = recorded.filter((index) => !revoked.includes(index));
        const id = (index: number) => deviceIdFromPublicKey((devices[index] ?? phone).publicKey);
        expect([...verified.bound].sort()).toEqual(expected.map(id).sort());
        expect([...verified.revokedAtMs.keys()].sort()).toEqual(revoked.map(id).sort());
      }),
      { numRuns: 50 },
    );
  });

  test("changing any one byte never binds a device more, nor loses a revocation silently", () => {
    fc.assert(
      fc.property(
        listArbitrary,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        ({ bytes }, position, delta) => {
          const original = verify(bytes);
          const changed = Uint8Array.from(bytes);
          const at = position % changed.length;
          changed[at] = ((changed[at] ?? 0) + delta) % 256;
          let result: ReturnType<typeof verify>;
          try {
            result = verify(changed);
          } catch (error) {
            expect(error).toBeInstanceOf(ParleyError);
            return;
          }
          for (const device of result.bound) expect(original.bound.has(device)).toBe(true);
          for (const [device, atMs] of original.revokedAtMs) {
            expect(result.revokedAtMs.get(device)).toBe(atMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
