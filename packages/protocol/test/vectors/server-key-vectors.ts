import { compareBytes, encodeHex } from "../../src/codec/bytes.ts";
import { encodeCanonical } from "../../src/codec/encode.ts";
import { signatureContexts, signInContext } from "../../src/crypto/contexts.ts";
import type { KeyPair, SignatureProvider } from "../../src/crypto/signature-provider.ts";
import type { ServerKeyDocumentInput } from "../../src/server-keys/document.ts";
import { dayMs, keyPairOf, minuteMs, startMs } from "../fixtures.ts";
import {
  describeDocuments,
  describeKeys,
  exampleOrg,
  firstKeyFromMs,
  makeWorld,
  rotationMs,
} from "./world.ts";

/**
 * Signs a document body without the checks of createServerKeyDocument, to
 * build documents a verifier must refuse. Signatures are sorted as the spec
 * requires.
 */
function signUnchecked(
  provider: SignatureProvider,
  body: Record<string, unknown>,
  signers: readonly KeyPair[],
) {
  const bodyBytes = encodeCanonical(body as never);
  const signatures = [...signers]
    .sort((left, right) => compareBytes(left.publicKey, right.publicKey))
    .map((signer) => ({
      publicKey: signer.publicKey,
      signature: signInContext(provider, signer, signatureContexts.serverKeyDocument, bodyBytes),
    }));
  return encodeCanonical({ body: body as never, signatures });
}

function bodyOf(input: ServerKeyDocumentInput, keyOrder = 1): Record<string, unknown> {
  const keys = [...input.keys].sort(
    (left, right) => keyOrder * compareBytes(left.publicKey, right.publicKey),
  );
  return { version: 1, ...input, keys };
}

export function serverKeyVectors(provider: SignatureProvider) {
  const world = makeWorld(provider);
  const { keys, inputs } = world;
  const key1 = keys.exampleKey1.keyPair;
  const key2 = keys.exampleKey2.keyPair;
  const stranger = keyPairOf(provider, "unlisted key");
  const first = bodyOf(inputs.exampleFirst);
  const crafted = {
    "issued in the future": signUnchecked(
      provider,
      { ...first, serial: 3, issuedAtMs: startMs + 10 * minuteMs },
      [key1],
    ),
    "signed by an unlisted key": signUnchecked(provider, first, [key1, stranger]),
    "plain http endpoint for a public name": signUnchecked(
      provider,
      { ...first, federationEndpoint: "http://example.org/_parley/federation/v1" },
      [key1],
    ),
    "keys out of order": signUnchecked(provider, bodyOf(inputs.exampleRotated, -1), [key1, key2]),
    "signer not valid at issue time": signUnchecked(
      provider,
      {
        ...first,
        keys: [
          {
            publicKey: key1.publicKey,
            validFromMs: firstKeyFromMs,
            validUntilMs: firstKeyFromMs + dayMs,
          },
        ],
        issuedAtMs: startMs,
      },
      [key1],
    ),
  };
  const damaged = Uint8Array.from(world.documents["example.org serial 1"]);
  damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 1;
  const allDocuments = [
    ...describeDocuments(world),
    ...Object.entries(crafted).map(([name, bytes]) => ({ name, hex: encodeHex(bytes) })),
    { name: "signature damaged", hex: encodeHex(damaged) },
  ];

  const valid = (verdict: Record<string, unknown>) => ({ verdict: "valid", ...verdict });
  const rejected = (error: string, why: string) => ({ verdict: "rejected", error, why });
  const serverName = exampleOrg;
  return {
    description:
      "Server key documents (docs/protocol.md §6). Verify `document` for `expectedServer` at `nowMs`, trusting `trusted` (itself verified on first contact) when given.",
    keys: describeKeys(world),
    documents: allDocuments,
    vectors: [
      {
        document: "example.org serial 1",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: valid({ serial: 1 }),
      },
      {
        document: "example.org serial 2",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: "example.org serial 1",
        expected: valid({ serial: 2 }),
      },
      {
        document: "example.org serial 2, new key only",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: "example.org serial 1",
        expected: rejected("key_continuity_broken", "key 1, trusted so far, did not sign it"),
      },
      {
        document: "example.org serial 2, new key only",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: null,
        expected: valid({ serial: 2 }),
      },
      {
        document: "example.org serial 1",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: "example.org serial 2",
        expected: rejected("record_replayed", "serial 1 is older than the trusted serial 2"),
      },
      {
        document: "example.org serial 2",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: "example.org serial 2",
        expected: valid({ serial: 2 }),
      },
      {
        document: "evil.example serial 1",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected("server_mismatch", "fetched for example.org"),
      },
      {
        document: "signature damaged",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected("signature_invalid", "one bit flipped"),
      },
      {
        document: "issued in the future",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected("timestamp_in_future", "issued 10 minutes ahead (tolerance 5)"),
      },
      {
        document: "signed by an unlisted key",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected("server_key_unknown", "every signer must be a listed key"),
      },
      {
        document: "plain http endpoint for a public name",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected("bad_federation_endpoint", "http only for loopback names"),
      },
      {
        document: "keys out of order",
        expectedServer: serverName,
        nowMs: rotationMs,
        trusted: null,
        expected: rejected("bad_structure", "keys are sorted by public key"),
      },
      {
        document: "signer not valid at issue time",
        expectedServer: serverName,
        nowMs: startMs,
        trusted: null,
        expected: rejected(
          "server_key_not_valid",
          "the only key expired before the document was issued",
        ),
      },
    ],
    lookups: {
      description: "Which key was valid at time T, in the verified document `document`.",
      document: "example.org serial 2",
      cases: [
        { publicKey: encodeHex(key1.publicKey), timeMs: rotationMs - 1, expected: "valid" },
        {
          publicKey: encodeHex(key1.publicKey),
          timeMs: rotationMs,
          expected: "server_key_not_valid",
        },
        { publicKey: encodeHex(key2.publicKey), timeMs: rotationMs, expected: "valid" },
        {
          publicKey: encodeHex(key2.publicKey),
          timeMs: rotationMs - 1,
          expected: "server_key_not_valid",
        },
        {
          publicKey: encodeHex(keys.evilKey.keyPair.publicKey),
          timeMs: startMs,
          expected: "server_key_unknown",
        },
      ],
    },
  };
}
