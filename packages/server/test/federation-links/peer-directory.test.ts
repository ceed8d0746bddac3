// The peer directory: key documents fetched, verified for the right server,
// followed through a rotation, refused when forged, cached with an expiry.

import {
  createServerKeyDocument,
  isParleyError,
  type KeyPair,
  keyPairFromSeed,
  parseServerName,
  sha256,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { describe, expect, it } from "vitest";
import { keyDocumentUrl, PeerDirectory } from "../../src/federation/discovery/peer-directory.ts";

const provider = nodeSignatureProvider;
const peer = parseServerName("peer.test");
const startMs = 1_735_689_600_000;

function key(label: string): KeyPair {
  return keyPairFromSeed(provider, sha256(new TextEncoder().encode(label)));
}

function documentOf(
  server: string,
  serial: number,
  issuedAtMs: number,
  keys: ReadonlyArray<{ pair: KeyPair; fromMs: number; untilMs: number | null }>,
  signers: readonly KeyPair[],
): Uint8Array {
  return createServerKeyDocument(
    provider,
    {
      server: parseServerName(server),
      serial,
      issuedAtMs,
      federationEndpoint: `https://${server}/_parley/federation/v1`,
      keys: keys.map(({ pair, fromMs, untilMs }) => ({
        publicKey: pair.publicKey,
        validFromMs: fromMs,
        validUntilMs: untilMs,
      })),
    },
    signers,
  );
}

function directoryServing(initial: Uint8Array | Error) {
  let nowMs = startMs;
  let served: Uint8Array | Error = initial;
  const fetched: string[] = [];
  const directory = new PeerDirectory({
    provider,
    nowMs: () => nowMs,
    documentLifetimeMs: 60_000,
    refreshIntervalMinMs: 1_000,
    staleServeMaxMs: 120_000,
    entriesMax: 2,
    fetchDocument: async (url) => {
      fetched.push(url);
      if (served instanceof Error) throw served;
      return served;
    },
  });
  return {
    directory,
    fetched,
    serve(bytes: Uint8Array | Error) {
      served = bytes;
    },
    advance(milliseconds: number) {
      nowMs += milliseconds;
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isParleyError(error) ? error.code : String(error);
  }
}

const first = key("peer first key");
const second = key("peer second key");
const stranger = key("a key nobody trusts");
const firstDocument = documentOf(
  "peer.test",
  1,
  startMs,
  [{ pair: first, fromMs: startMs, untilMs: null }],
  [first],
);

describe("peer directory", () => {
  it("uses https for real names and http for loopback names", () => {
    expect(keyDocumentUrl(peer)).toBe("https://peer.test/.well-known/parley/server");
    expect(keyDocumentUrl(parseServerName("127.0.0.1:7002"))).toBe(
      "http://127.0.0.1:7002/.well-known/parley/server",
    );
    expect(keyDocumentUrl(parseServerName("localhost:7002"))).toBe(
      "http://localhost:7002/.well-known/parley/server",
    );
  });

  it("caches a document until it expires, then fetches it again", async () => {
    const world = directoryServing(firstDocument);
    const document = await world.directory.lookup(peer);
    expect(document.serial).toBe(1);
    await world.directory.lookup(peer);
    expect(world.fetched).toHaveLength(1);
    world.advance(60_000);
    await world.directory.lookup(peer);
    expect(world.fetched).toHaveLength(2);
  });

  it("follows a rotation signed by the outgoing and the incoming key", async () => {
    const world = directoryServing(firstDocument);
    await world.directory.lookup(peer);
    const rotatedAtMs = startMs + 30_000;
    world.serve(
      documentOf(
        "peer.test",
        2,
        rotatedAtMs,
        [
          { pair: first, fromMs: startMs, untilMs: rotatedAtMs + 3_600_000 },
          { pair: second, fromMs: rotatedAtMs, untilMs: null },
        ],
        [first, second],
      ),
    );
    world.advance(60_000);
    const rotated = await world.directory.lookup(peer);
    expect(rotated.serial).toBe(2);
    expect(rotated.keys.map((entry) => entry.publicKey)).toContainEqual(second.publicKey);
  });

  it("refuses a replacement not signed by a trusted key, and keeps trusting the old one", async () => {
    const world = directoryServing(firstDocument);
    await world.directory.lookup(peer);
    world.serve(
      documentOf(
        "peer.test",
        2,
        startMs + 1_000,
        [{ pair: stranger, fromMs: startMs, untilMs: null }],
        [stranger],
      ),
    );
    world.advance(60_000);
    expect(await codeOf(world.directory.lookup(peer))).toBe("key_continuity_broken");
    // The genuine next document is still accepted: trust stayed with the first key.
    world.serve(
      documentOf(
        "peer.test",
        2,
        startMs + 2_000,
        [
          { pair: first, fromMs: startMs, untilMs: null },
          { pair: second, fromMs: startMs + 2_000, untilMs: null },
        ],
        [first],
      ),
    );
    expect((await world.directory.lookup(peer)).serial).toBe(2);
  });

  it("refuses a document of another server", async () => {
    const other = documentOf(
      "other.test",
      1,
      startMs,
      [{ pair: first, fromMs: startMs, untilMs: null }],
      [first],
    );
    const world = directoryServing(other);
    expect(await codeOf(world.directory.lookup(peer))).toBe("server_mismatch");
    expect(world.directory.size).toBe(0);
  });

  it("refuses an older document offered after a newer one", async () => {
    const world = directoryServing(firstDocument);
    await world.directory.lookup(peer);
    const rotated = documentOf(
      "peer.test",
      2,
      startMs + 1_000,
      [
        { pair: first, fromMs: startMs, untilMs: null },
        { pair: second, fromMs: startMs, untilMs: null },
      ],
      [first, second],
    );
    world.serve(rotated);
    world.advance(60_000);
    await world.directory.lookup(peer);
    world.serve(firstDocument);
    world.advance(60_000);
    expect(await codeOf(world.directory.lookup(peer))).toBe("record_replayed");
  });

  it("answers unavailable when nothing is known and the server cannot be reached", async () => {
    const world = directoryServing(new Error("connection refused"));
    expect(await codeOf(world.directory.lookup(peer))).toBe("unavailable");
  });

  it("keeps serving an expired document for a while when the server is unreachable", async () => {
    const world = directoryServing(firstDocument);
    await world.directory.lookup(peer);
    world.serve(new Error("connection refused"));
    world.advance(90_000);
    expect((await world.directory.lookup(peer)).serial).toBe(1);
    world.advance(120_000);
    expect(await codeOf(world.directory.lookup(peer))).toBe("unavailable");
  });

  it("refreshes at most once per interval", async () => {
    const world = directoryServing(firstDocument);
    await world.directory.lookup(peer);
    await world.directory.refresh(peer);
    expect(world.fetched).toHaveLength(1);
    world.advance(1_000);
    await world.directory.refresh(peer);
    expect(world.fetched).toHaveLength(2);
  });

  it("remembers a bounded number of servers", async () => {
    let nowMs = startMs;
    const documents = new Map(
      ["a.test", "b.test", "c.test"].map((server) => [
        `https://${server}/.well-known/parley/server`,
        documentOf(server, 1, startMs, [{ pair: first, fromMs: startMs, untilMs: null }], [first]),
      ]),
    );
    const directory = new PeerDirectory({
      provider,
      nowMs: () => nowMs,
      entriesMax: 2,
      fetchDocument: async (url) => {
        const bytes = documents.get(url);
        if (bytes === undefined) throw new Error("no such server");
        return bytes;
      },
    });
    for (const server of ["a.test", "b.test", "c.test"]) {
      await directory.lookup(parseServerName(server));
      nowMs += 1;
    }
    expect(directory.size).toBe(2);
  });
});
