import { encodeHex } from "../../src/codec/bytes.ts";
import type { SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { deviceIdFromPublicKey } from "../../src/identifiers/device-id.ts";
import { dayMs, issueRecord, issueRevocation, minuteMs, startMs } from "../fixtures.ts";
import { describeDocuments, describeKeys, exampleOrg, makeWorld } from "./world.ts";

/** One step of a registry scenario; `expect` is an outcome kind or "rejected:<code>". */
export type RegistryStep =
  | { readonly offer: string; readonly nowMs: number; readonly expect: string }
  | { readonly revoke: string; readonly nowMs: number; readonly expect: string }
  | {
      readonly linkedDevicesOf: string;
      readonly nowMs: number;
      readonly expect: readonly string[];
    };

export function registryVectors(provider: SignatureProvider) {
  const world = makeWorld(provider);
  const { keys } = world;
  const server = { name: exampleOrg, keyPair: keys.exampleKey1.keyPair };
  const now = startMs + minuteMs;
  const later = startMs + dayMs;
  const bob = "bob@example.org";
  const bobPhone = keys.bobPhone.keyPair;
  const laptop = keys.aliceLaptop.keyPair;
  const phone = keys.alicePhone.keyPair;
  const hex = encodeHex;

  const bob1 = hex(issueRecord(provider, { user: bob, device: bobPhone, server }));
  const bob2 = hex(issueRecord(provider, { user: bob, device: bobPhone, server, sequence: 2 }));
  const bob2Other = hex(
    issueRecord(provider, {
      user: bob,
      device: bobPhone,
      server,
      sequence: 2,
      validFromMs: startMs + 1,
    }),
  );
  const bob3Later = hex(
    issueRecord(provider, { user: bob, device: bobPhone, server, sequence: 3, validFromMs: later }),
  );
  const carolWithBobsKey = hex(
    issueRecord(provider, { user: "carol@example.org", device: bobPhone, server, sequence: 9 }),
  );
  const bySelf = hex(issueRevocation(provider, bobPhone, bob, bobPhone, now));
  const byServer = hex(issueRevocation(provider, server.keyPair, bob, bobPhone, now));
  const laptopRecord = hex(
    issueRecord(provider, { user: "alice@example.org", device: laptop, server, linked: [phone] }),
  );
  const phoneRecord = hex(
    issueRecord(provider, { user: "alice@example.org", device: phone, server, linked: [laptop] }),
  );
  const malloryRecord = hex(
    issueRecord(provider, {
      user: "mallory@example.org",
      device: keys.mallory.keyPair,
      server,
      linked: [laptop],
    }),
  );

  return {
    description:
      "DeviceRegistry scenarios (docs/protocol.md §5.6-5.8). Records and revocations are verified with `serverKeyDocument` at each step's nowMs, then offered or applied in order; `expect` is the outcome.",
    keys: describeKeys(world),
    documents: describeDocuments(world),
    serverKeyDocument: "example.org serial 1",
    scenarios: [
      {
        name: "rotation, replay and re-delivery",
        steps: [
          { offer: bob1, nowMs: now, expect: "accepted" },
          { offer: bob2, nowMs: now, expect: "accepted" },
          { offer: bob1, nowMs: now, expect: "rejected:record_replayed" },
          { offer: bob2, nowMs: now, expect: "unchanged" },
          { offer: bob2Other, nowMs: now, expect: "rejected:record_replayed" },
        ],
      },
      {
        name: "a device revokes itself; no later record brings it back",
        steps: [
          { offer: bob1, nowMs: now, expect: "accepted" },
          { revoke: bySelf, nowMs: now, expect: "revoked" },
          { offer: bob3Later, nowMs: later, expect: "rejected:device_revoked" },
          { revoke: bySelf, nowMs: now, expect: "unchanged" },
        ],
      },
      {
        name: "the homeserver's revocation arrives before the record",
        steps: [
          { revoke: byServer, nowMs: now, expect: "revoked" },
          { offer: bob1, nowMs: now, expect: "rejected:device_revoked" },
        ],
      },
      {
        name: "a device key keeps the user of its first record",
        steps: [
          { offer: bob1, nowMs: now, expect: "accepted" },
          { offer: carolWithBobsKey, nowMs: now, expect: "rejected:user_mismatch" },
        ],
      },
      {
        name: "mutual links count, one-sided claims do not",
        steps: [
          { offer: laptopRecord, nowMs: now, expect: "accepted" },
          { offer: phoneRecord, nowMs: now, expect: "accepted" },
          { offer: malloryRecord, nowMs: now, expect: "accepted" },
          {
            linkedDevicesOf: deviceIdFromPublicKey(laptop.publicKey),
            nowMs: now,
            expect: [deviceIdFromPublicKey(phone.publicKey)],
          },
          {
            linkedDevicesOf: deviceIdFromPublicKey(keys.mallory.keyPair.publicKey),
            nowMs: now,
            expect: [],
          },
          {
            linkedDevicesOf: deviceIdFromPublicKey(laptop.publicKey),
            nowMs: startMs + 90 * dayMs,
            expect: [],
          },
        ],
      },
    ] satisfies { name: string; steps: RegistryStep[] }[],
  };
}

export function revocationVectors(provider: SignatureProvider) {
  const world = makeWorld(provider);
  const { keys } = world;
  const now = startMs + minuteMs;
  const bobPhone = keys.bobPhone.keyPair;
  const bob = "bob@example.org";
  const bySelf = issueRevocation(provider, bobPhone, bob, bobPhone, now);
  const damaged = Uint8Array.from(bySelf);
  damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 1;
  const vector = (
    name: string,
    bytes: Uint8Array,
    expected: Record<string, unknown>,
    document = "example.org serial 1",
  ) => ({
    name,
    revocationHex: encodeHex(bytes),
    serverKeyDocument: document,
    nowMs: now,
    expected,
  });
  return {
    description:
      "Device revocations (docs/protocol.md §5.8). Verify `revocationHex` with the named key document at `nowMs`.",
    keys: describeKeys(world),
    documents: describeDocuments(world),
    vectors: [
      vector("bob's phone revokes itself", bySelf, {
        verdict: "valid",
        signedBy: "device",
        deviceId: deviceIdFromPublicKey(bobPhone.publicKey),
      }),
      vector(
        "example.org revokes bob's lost phone",
        issueRevocation(provider, keys.exampleKey1.keyPair, bob, bobPhone, now),
        {
          verdict: "valid",
          signedBy: "server",
          deviceId: deviceIdFromPublicKey(bobPhone.publicKey),
        },
      ),
      vector(
        "evil.example's key revokes bob's phone",
        issueRevocation(provider, keys.evilKey.keyPair, bob, bobPhone, now),
        {
          verdict: "rejected",
          error: "server_key_unknown",
          why: "only the device or its own homeserver may revoke it",
        },
      ),
      vector(
        "revoked in the future",
        issueRevocation(provider, bobPhone, bob, bobPhone, now + 10 * minuteMs),
        {
          verdict: "rejected",
          error: "timestamp_in_future",
          why: "10 minutes ahead of the verifier (tolerance 5)",
        },
      ),
      vector("signature damaged", damaged, {
        verdict: "rejected",
        error: "signature_invalid",
        why: "one bit flipped",
      }),
      vector(
        "checked against another server's document",
        bySelf,
        {
          verdict: "rejected",
          error: "server_mismatch",
          why: "bob is on example.org",
        },
        "evil.example serial 1",
      ),
    ],
  };
}
