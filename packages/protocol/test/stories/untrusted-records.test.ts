/**
 * Device identity as stories, part two: records that must not be believed,
 * because the wrong server key attested them or their time is not now.
 */
import { describe, expect, test } from "vitest";
import { nodeSignatureProvider as provider } from "../../src/crypto/node-provider.ts";
import { DeviceRegistry } from "../../src/device-record/registry.ts";
import { verifyDeviceRecord } from "../../src/device-record/verify.ts";
import {
  createServerKeyDocument,
  verifyServerKeyDocument,
} from "../../src/server-keys/document.ts";
import { errorCodeOf } from "../error-code-of.ts";
import {
  dayMs,
  endpointOf,
  issueRecord,
  keyPairOf,
  makeServer,
  minuteMs,
  startMs,
  type TestServer,
} from "../fixtures.ts";

const exampleOrg = makeServer(provider, "example.org");
const evilExample = makeServer(provider, "evil.example");
const now = startMs + minuteMs;

function verify(bytes: Uint8Array, server: TestServer = exampleOrg, nowMs = now) {
  return verifyDeviceRecord(bytes, { provider, serverKeys: server.keys, nowMs });
}

describe("a record attested by the wrong server key", () => {
  const laptop = keyPairOf(provider, "erin laptop");
  const erin = "erin@example.org";

  test("attested with evil.example's key but naming a user of example.org", () => {
    const forged = issueRecord(provider, {
      user: erin,
      device: laptop,
      server: { name: exampleOrg.name, keyPair: evilExample.keyPair },
    });
    expect(errorCodeOf(() => verify(forged))).toBe("server_key_unknown");
  });

  test("checked against evil.example's key document instead of example.org's", () => {
    const genuine = issueRecord(provider, { user: erin, device: laptop, server: exampleOrg });
    expect(errorCodeOf(() => verify(genuine, evilExample))).toBe("server_mismatch");
  });

  test("attested with a retired key after its window closed, while a record from its time still verifies", () => {
    const oldKey = exampleOrg.keyPair;
    const newKey = keyPairOf(provider, "example.org key 2");
    const rotationMs = startMs + 10 * dayMs;
    const rotatedBytes = createServerKeyDocument(
      provider,
      {
        server: exampleOrg.name,
        serial: 2,
        issuedAtMs: rotationMs,
        federationEndpoint: endpointOf(exampleOrg.name),
        keys: [
          {
            publicKey: oldKey.publicKey,
            validFromMs: startMs - 30 * dayMs,
            validUntilMs: rotationMs,
          },
          { publicKey: newKey.publicKey, validFromMs: rotationMs, validUntilMs: null },
        ],
      },
      [oldKey, newKey],
    );
    const rotated = verifyServerKeyDocument(rotatedBytes, {
      provider,
      nowMs: rotationMs,
      expectedServer: exampleOrg.name,
      trusted: exampleOrg.keys,
    });
    const lateNow = rotationMs + dayMs + minuteMs;
    const context = { provider, serverKeys: rotated, nowMs: lateNow };

    const withRetiredKey = { name: exampleOrg.name, keyPair: oldKey };
    const late = issueRecord(provider, {
      user: erin,
      device: laptop,
      server: withRetiredKey,
      validFromMs: rotationMs + dayMs,
    });
    expect(errorCodeOf(() => verifyDeviceRecord(late, context))).toBe("server_key_not_valid");

    const early = issueRecord(provider, { user: erin, device: laptop, server: exampleOrg });
    expect(verifyDeviceRecord(early, context).user).toBe(erin);
  });
});

describe("a record outside its validity window", () => {
  const phone = keyPairOf(provider, "frank phone");
  const frank = "frank@example.org";
  const record = issueRecord(provider, {
    user: frank,
    device: phone,
    server: exampleOrg,
    validFromMs: startMs,
    validUntilMs: startMs + 30 * dayMs,
  });

  test("after its end it is expired; at its last millisecond it still holds", () => {
    expect(verify(record, exampleOrg, startMs + 30 * dayMs - 1).user).toBe(frank);
    expect(errorCodeOf(() => verify(record, exampleOrg, startMs + 30 * dayMs))).toBe(
      "record_expired",
    );
  });

  test("before its start it is not yet valid, beyond the clock-skew tolerance", () => {
    expect(verify(record, exampleOrg, startMs - 5 * minuteMs).user).toBe(frank);
    const tooEarly = startMs - 5 * minuteMs - 1;
    expect(errorCodeOf(() => verify(record, exampleOrg, tooEarly))).toBe("record_not_yet_valid");
  });

  test("a verified record that expires drops out of its user's devices", () => {
    const registry = new DeviceRegistry();
    const verified = verify(record);
    registry.offer(verified);
    expect(registry.devicesOfUser(verified.user, startMs + dayMs)).toHaveLength(1);
    expect(registry.devicesOfUser(verified.user, startMs + 30 * dayMs)).toHaveLength(0);
  });
});
