/**
 * Protocol throughput on one core: canonical encode and decode, Ed25519 sign
 * and verify, and full device identity record verification (decode, schema,
 * rules, both signatures), for the node:crypto provider and, for comparison,
 * the pure-JavaScript noble provider that browsers use.
 *
 * Full verification cycles through records of many distinct devices, so no
 * figure comes from verifying one record again and again. The figure with the
 * verified-signature cache is separate and named as such: it is what a server
 * gets for records it has already verified once.
 */
import { createPublicKey, verify as verifyOnNodeCrypto } from "node:crypto";
import {
  attestDeviceRecord,
  createServerKeyDocument,
  decodeCanonical,
  encodeCanonical,
  type KeyPair,
  keyPairFromSeed,
  limits,
  nobleSignatureProvider,
  parseServerName,
  parseUserId,
  type SignatureProvider,
  sha256,
  signatureContexts,
  signDeviceRecord,
  signInContext,
  VerifiedSignatureCache,
  verifyDeviceRecord,
  verifyInContext,
  verifyServerKeyDocument,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import type { Benchmark, BenchmarkOptions, Figure } from "./harness.ts";
import { measureRate, median } from "./harness.ts";

const startMs = Date.UTC(2025, 0, 1);
const dayMs = 86_400_000;
/** Distinct devices whose records the verification figures cycle through. */
const deviceCount = 512;
const targetNote = "issue #2 target: 10,000/s";

function seed(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(`parley bench seed: ${label}`));
}

function makeRecords(provider: SignatureProvider, count: number) {
  const server = parseServerName("bench.example");
  const serverKey = keyPairFromSeed(provider, seed("server"));
  const documentBytes = createServerKeyDocument(
    provider,
    {
      server,
      serial: 1,
      issuedAtMs: startMs - dayMs,
      federationEndpoint: "https://bench.example/_parley/federation/v1",
      keys: [{ publicKey: serverKey.publicKey, validFromMs: startMs - dayMs, validUntilMs: null }],
    },
    [serverKey],
  );
  const serverKeys = verifyServerKeyDocument(documentBytes, {
    provider,
    nowMs: startMs,
    expectedServer: server,
  });
  const devices: KeyPair[] = Array.from({ length: count }, (_, index) =>
    keyPairFromSeed(provider, seed(`device ${index}`)),
  );
  const records = devices.map((device, index) => {
    const linked = [devices[(index + 1) % count], devices[(index + 2) % count]].flatMap((other) =>
      other === undefined ? [] : [other.publicKey],
    );
    const request = signDeviceRecord(provider, device, {
      user: parseUserId(`user${Math.floor(index / 3)}@bench.example`),
      sequence: 1,
      linkedDeviceKeys: linked,
      validFromMs: startMs,
      validUntilMs: startMs + 90 * dayMs,
    });
    return attestDeviceRecord(provider, { name: server, keyPair: serverKey }, request, startMs);
  });
  return { serverKeys, records };
}

/**
 * Like measureRate, but per second of this process's CPU time (user and
 * system, from process.cpuUsage) instead of wall-clock time: on a machine
 * shared with other work, wall-clock rates fall with the load, CPU-time rates
 * hardly do. Median of rounds, clock checked every 16 operations.
 */
function measureCpuRate(
  operation: () => void,
  options: { readonly rounds: number; readonly durationMs: number },
): number {
  const rates: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const start = process.cpuUsage();
    let count = 0;
    let usedMicroseconds = 0;
    while (usedMicroseconds < options.durationMs * 1000) {
      for (let step = 0; step < 16; step += 1) operation();
      count += 16;
      const used = process.cpuUsage(start);
      usedMicroseconds = used.user + used.system;
    }
    rates.push((count * 1_000_000) / usedMicroseconds);
  }
  return median(rates);
}

/** Returns an operation that visits `items` round-robin, so each call sees the next one. */
function cycling<Item>(items: readonly Item[], operation: (item: Item) => void): () => void {
  let index = 0;
  return () => {
    const item = items[index];
    index = (index + 1) % items.length;
    if (item !== undefined) operation(item);
  };
}

/**
 * The yardstick for every signature figure: OpenSSL's Ed25519 verify with the
 * keys imported beforehand and nothing of Parley around it, measured in the
 * same run (so under the same machine load).
 */
function rawVerifyOperation(bodies: readonly Uint8Array[]): () => void {
  const items = bodies.map((body, index) => {
    const keyPair = keyPairFromSeed(nodeSignatureProvider, seed(`anchor ${index % 16}`));
    const x = Buffer.from(keyPair.publicKey).toString("base64url");
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    return { body, key, signature: nodeSignatureProvider.sign(keyPair, body) };
  });
  return cycling(items, (item) => verifyOnNodeCrypto(null, item.body, item.key, item.signature));
}

export const protocolBenchmark: Benchmark = {
  name: "protocol",
  description: "encode, decode, sign, verify and full device-record verification on one core",
  async run(options: BenchmarkOptions): Promise<readonly Figure[]> {
    const cpuRate = (operation: () => void) =>
      measureCpuRate(
        operation,
        options.smoke ? { rounds: 1, durationMs: 5 } : { rounds: 5, durationMs: 1000 },
      );
    const rate = (operation: () => void) =>
      options.smoke
        ? measureRate(operation, { rounds: 1, durationMs: 5 })
        : measureRate(operation, { rounds: 5, durationMs: 1000 });
    const nowMs = startMs + dayMs;
    const { serverKeys, records } = makeRecords(
      nodeSignatureProvider,
      options.smoke ? 8 : deviceCount,
    );
    const decoded = records.map((bytes) => decodeCanonical(bytes, limits.deviceRecordDecodeLimits));
    const bodies = decoded.map((record) => encodeCanonical((record as { body: never }).body));
    const recordBytes = records[0]?.length ?? 0;
    const figures: Figure[] = [
      {
        name: "encode (device record)",
        value: rate(cycling(decoded, (value) => encodeCanonical(value))),
        unit: "ops/s",
        note: `${recordBytes}-byte records, value-model check included`,
      },
      {
        name: "decode (device record)",
        value: rate(
          cycling(records, (bytes) => decodeCanonical(bytes, limits.deviceRecordDecodeLimits)),
        ),
        unit: "ops/s",
        note: "limits, strict tokenizer and canonical re-encode check",
      },
    ];
    for (const provider of [nodeSignatureProvider, nobleSignatureProvider]) {
      const keyPairs = Array.from({ length: 16 }, (_, index) =>
        keyPairFromSeed(provider, seed(`signer ${index}`)),
      );
      const context = signatureContexts.deviceRecord;
      const signed = bodies.map((body, index) => {
        const keyPair = keyPairs[index % keyPairs.length] as KeyPair;
        return { body, keyPair, signature: signInContext(provider, keyPair, context, body) };
      });
      figures.push(
        {
          name: `sign (${provider.name})`,
          value: rate(
            cycling(signed, (item) => signInContext(provider, item.keyPair, context, item.body)),
          ),
          unit: "ops/s",
        },
        {
          name: `verify (${provider.name})`,
          value: rate(
            cycling(signed, (item) =>
              verifyInContext(provider, item.keyPair.publicKey, context, item.body, item.signature),
            ),
          ),
          unit: "ops/s",
          note: "16 signers; weak-key check and context prefix included",
        },
        {
          name: `full DIR verification (${provider.name})`,
          value: rate(
            cycling(records, (bytes) => verifyDeviceRecord(bytes, { provider, serverKeys, nowMs })),
          ),
          unit: "records/s",
          note: `${records.length} distinct devices, no signature cache; ${targetNote}`,
        },
      );
    }
    const rawVerify = rawVerifyOperation(bodies);
    const signatureCache = new VerifiedSignatureCache(records.length);
    const cold = { provider: nodeSignatureProvider, serverKeys, nowMs };
    const cached = { ...cold, signatureCache };
    for (const bytes of records) verifyDeviceRecord(bytes, cached);
    const verifyCold = cycling(records, (bytes) => verifyDeviceRecord(bytes, cold));
    const verifyCached = cycling(records, (bytes) => verifyDeviceRecord(bytes, cached));
    const anchorNote = "keys pre-imported, no Parley code; a record needs two verifications";
    const cachedNote = "records seen before: decode, schema, rules, SHA-256; signatures skipped";
    figures.push(
      {
        name: "raw node:crypto verify (anchor)",
        value: rate(rawVerify),
        unit: "ops/s",
        note: anchorNote,
      },
      {
        name: "full DIR verification, repeat records (signature cache hits)",
        value: rate(verifyCached),
        unit: "records/s",
        note: cachedNote,
      },
      // The same three per second of CPU time, which other load on the machine hardly changes.
      {
        name: "raw node:crypto verify (anchor), CPU time",
        value: cpuRate(rawVerify),
        unit: "ops/CPU-s",
        note: anchorNote,
      },
      {
        name: "full DIR verification (node), CPU time",
        value: cpuRate(verifyCold),
        unit: "records/CPU-s",
        note: `${records.length} distinct devices, no signature cache; ${targetNote}`,
      },
      {
        name: "full DIR verification, repeat records, CPU time",
        value: cpuRate(verifyCached),
        unit: "records/CPU-s",
        note: cachedNote,
      },
    );
    return figures;
  },
};
