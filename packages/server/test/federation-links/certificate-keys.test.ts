// Control-certificate keys in a real homeserver (docs/protocol.md §12.6.1):
// this server signs with its server key; a peer's signature verifies only
// against the keys of its verified key document, fetched through the peer
// directory when unknown; a forged signature, another room or index, or a
// signature by a key the document does not list never verifies.

import {
  createServerKeyDocument,
  type KeyPair,
  keyPairFromSeed,
  parseRoomId,
  parseServerName,
  type ServerName,
  sha256,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { describe, expect, it } from "vitest";
import { ServerCertificateKeys } from "../../src/federation/certificate-keys.ts";
import { PeerDirectory } from "../../src/federation/discovery/peer-directory.ts";
import { createLogger } from "../../src/observability/logger.ts";

const provider = nodeSignatureProvider;
const nowMs = 1_735_689_600_000;
const room = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");
const otherRoom = parseRoomId("!BBBBBBBBBBBBBBBBBBBBBA");
const chainHash = sha256(new TextEncoder().encode("chain at 7"));

function key(label: string): KeyPair {
  return keyPairFromSeed(provider, sha256(new TextEncoder().encode(label)));
}

function documentOf(server: ServerName, pair: KeyPair): Uint8Array {
  return createServerKeyDocument(
    provider,
    {
      server,
      serial: 1,
      issuedAtMs: nowMs - 1000,
      federationEndpoint: `https://${server}/_parley/federation/v1`,
      keys: [{ publicKey: pair.publicKey, validFromMs: nowMs - 1000, validUntilMs: null }],
    },
    [pair],
  );
}

function keysOf(self: ServerName, pair: KeyPair, documents: Map<string, Uint8Array>) {
  const fetched: string[] = [];
  const directory = new PeerDirectory({
    provider,
    nowMs: () => nowMs,
    fetchDocument: async (url) => {
      fetched.push(url);
      const bytes = documents.get(url);
      if (bytes === undefined) throw new Error(`nothing at ${url}`);
      return bytes;
    },
  });
  const keys = new ServerCertificateKeys({
    self,
    keyPair: pair,
    provider,
    directory,
    nowMs: () => nowMs,
    logger: createLogger("silent"),
  });
  return { keys, fetched };
}

/** Lets the directory's fetch (a resolved promise chain) finish. */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

describe("control-certificate keys", () => {
  const alpha = parseServerName("alpha.test");
  const beta = parseServerName("beta.test");
  const alphaKey = key("alpha");
  const betaKey = key("beta");
  const documents = new Map([
    ["https://alpha.test/.well-known/parley/server", documentOf(alpha, alphaKey)],
    ["https://beta.test/.well-known/parley/server", documentOf(beta, betaKey)],
  ]);

  it("verifies a peer's signature only after fetching its key document", async () => {
    const signer = keysOf(beta, betaKey, documents).keys;
    const { keys: verifier, fetched } = keysOf(alpha, alphaKey, documents);
    const signature = signer.sign(room, 7, chainHash);
    expect(verifier.verify(beta, room, 7, chainHash, signature)).toBe("unknown-key");
    await settle();
    expect(fetched).toEqual(["https://beta.test/.well-known/parley/server"]);
    expect(verifier.verify(beta, room, 7, chainHash, signature)).toBe("valid");
    // Its own signatures verify without any fetch.
    expect(verifier.verify(alpha, room, 7, chainHash, verifier.sign(room, 7, chainHash))).toBe(
      "valid",
    );
  });

  it("refuses forged signatures, other rooms and indexes, and keys the document does not list", async () => {
    const signer = keysOf(beta, betaKey, documents).keys;
    const { keys: verifier } = keysOf(alpha, alphaKey, documents);
    verifier.want([beta]);
    await settle();
    const signature = signer.sign(room, 7, chainHash);
    expect(verifier.verify(beta, room, 7, chainHash, signature)).toBe("valid");
    const forged = signature.slice();
    forged[0] = (forged[0] ?? 0) ^ 1;
    expect(verifier.verify(beta, room, 7, chainHash, forged)).toBe("invalid");
    expect(verifier.verify(beta, otherRoom, 7, chainHash, signature)).toBe("invalid");
    expect(verifier.verify(beta, room, 8, chainHash, signature)).toBe("invalid");
    expect(verifier.verify(beta, room, 7, sha256(chainHash), signature)).toBe("invalid");
    // A server that claims to be beta but signs with its own key.
    const impostor = keysOf(beta, key("impostor"), documents).keys;
    expect(verifier.verify(beta, room, 7, chainHash, impostor.sign(room, 7, chainHash))).toBe(
      "invalid",
    );
    // Beta's signature presented as alpha's.
    expect(verifier.verify(alpha, room, 7, chainHash, signature)).toBe("invalid");
  });

  it("never believes a signer whose document cannot be fetched", async () => {
    const gamma = parseServerName("gamma.test");
    const gammaKeys = keysOf(gamma, key("gamma"), documents).keys;
    const { keys: verifier, fetched } = keysOf(alpha, alphaKey, documents);
    const signature = gammaKeys.sign(room, 7, chainHash);
    expect(verifier.verify(gamma, room, 7, chainHash, signature)).toBe("unknown-key");
    await settle();
    expect(fetched).toEqual(["https://gamma.test/.well-known/parley/server"]);
    expect(verifier.verify(gamma, room, 7, chainHash, signature)).toBe("unknown-key");
  });
});
