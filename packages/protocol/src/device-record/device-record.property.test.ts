import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { errorCodeOf } from "../../test/error-code-of.ts";
import { dayMs, makeServer, startMs } from "../../test/fixtures.ts";
import { nodeSignatureProvider as provider } from "../crypto/node-provider.ts";
import { keyPairFromSeed } from "../crypto/signature-provider.ts";
import { parseUserId } from "../identifiers/user-id.ts";
import { attestDeviceRecord, signDeviceRecord } from "./create.ts";
import { verifyDeviceRecord } from "./verify.ts";

const server = makeServer(provider, "example.org");
const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Records with random devices, users, links, sequences and windows. */
const recordArbitrary = fc
  .record({
    deviceSeed: seed,
    linkedSeeds: fc.array(seed, { maxLength: 4 }),
    localPart: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
    sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    startOffsetMs: fc.integer({ min: -dayMs, max: 0 }),
    lengthMs: fc.integer({ min: dayMs, max: 366 * dayMs }),
  })
  .filter(({ deviceSeed, linkedSeeds }) => {
    const all = [deviceSeed, ...linkedSeeds].map((bytes) => bytes.join(","));
    return new Set(all).size === all.length;
  })
  .map((fields) => {
    const device = keyPairFromSeed(provider, fields.deviceSeed);
    const validFromMs = startMs + fields.startOffsetMs;
    const request = signDeviceRecord(provider, device, {
      user: parseUserId(`${fields.localPart}@example.org`),
      sequence: fields.sequence,
      linkedDeviceKeys: fields.linkedSeeds.map(
        (bytes) => keyPairFromSeed(provider, bytes).publicKey,
      ),
      validFromMs,
      validUntilMs: validFromMs + fields.lengthMs,
    });
    return attestDeviceRecord(provider, server, request, startMs);
  });

const verify = (bytes: Uint8Array) =>
  verifyDeviceRecord(bytes, { provider, serverKeys: server.keys, nowMs: startMs });

describe("device record properties", () => {
  test("every record made by a device and attested by its server verifies", () => {
    fc.assert(
      fc.property(recordArbitrary, (record) => {
        expect(verify(record).bytes).toEqual(record);
      }),
      { numRuns: 100 },
    );
  });

  test("changing any one byte of a signed record to any other value makes verification fail", () => {
    fc.assert(
      fc.property(
        recordArbitrary,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (record, position, delta) => {
          const changed = Uint8Array.from(record);
          const index = position % changed.length;
          changed[index] = ((changed[index] ?? 0) + delta) & 0xff;
          expect(errorCodeOf(() => verify(changed))).not.toBe("accepted");
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("truncating or extending a record makes verification fail", () => {
    fc.assert(
      fc.property(recordArbitrary, fc.integer({ min: -40, max: 40 }), (record, change) => {
        fc.pre(change !== 0);
        const resized =
          change < 0
            ? record.subarray(0, Math.max(0, record.length + change))
            : Uint8Array.from([...record, ...new Uint8Array(change)]);
        expect(errorCodeOf(() => verify(resized))).not.toBe("accepted");
      }),
      { numRuns: 300 },
    );
  });
});
