import { decode } from "cborg";
import { describe, expect, test } from "vitest";
import { decodeHex, encodeHex } from "../../src/codec/bytes.ts";
import { nobleSignatureProvider } from "../../src/crypto/noble-provider.ts";
import { nodeSignatureProvider } from "../../src/crypto/node-provider.ts";
import type { SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { DeviceRegistry } from "../../src/device-record/registry.ts";
import { verifyDeviceRevocation } from "../../src/device-record/revocation.ts";
import { verifyDeviceRecord } from "../../src/device-record/verify.ts";
import type { DeviceId } from "../../src/identifiers/device-id.ts";
import { parseServerName } from "../../src/identifiers/server-name.ts";
import {
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "../../src/server-keys/document.ts";
import { serverKeyValidAt } from "../../src/server-keys/lookup.ts";
import { errorCodeOf } from "../error-code-of.ts";
import { publicKeyOfSeed, readVectorFile, verifiesOnNodeCrypto } from "./independent-ed25519.ts";
import type { RegistryStep } from "./registry-vectors.ts";

const providers = [nobleSignatureProvider, nodeSignatureProvider];

interface WorldFile {
  keys: { label: string; seed: string; publicKey: string }[];
  documents: { name: string; hex: string }[];
}

type Expected =
  | {
      verdict: "valid";
      signatures?: Record<string, string>;
      serial?: number;
      [field: string]: unknown;
    }
  | { verdict: "rejected"; error: string };

/** Verifies a named document on first contact, as a verifier would before using it. */
function documentNamed(
  file: WorldFile,
  name: string,
  provider: SignatureProvider,
  nowMs: number,
): VerifiedServerKeyDocument {
  const document = file.documents.find((candidate) => candidate.name === name);
  if (document === undefined) throw new Error(`no document "${name}"`);
  const bytes = decodeHex(document.hex);
  const server = parseServerName((decode(bytes) as { body: { server: string } }).body.server);
  return verifyServerKeyDocument(bytes, { provider, nowMs, expectedServer: server });
}

function checkKeys(file: WorldFile): void {
  for (const key of file.keys) expect(publicKeyOfSeed(key.seed), key.label).toBe(key.publicKey);
}

describe("device record vectors", () => {
  const file = JSON.parse(readVectorFile("device-records")) as WorldFile & {
    vectors: {
      name: string;
      recordHex: string;
      serverKeyDocument: string;
      nowMs: number;
      expected: Expected;
    }[];
  };

  test("every key is the key of its seed", () => checkKeys(file));

  describe.each(providers)("verified with the $name provider", (provider) => {
    test.each(file.vectors.map((vector) => [vector.name, vector] as const))("%s", (_, vector) => {
      const serverKeys = documentNamed(file, vector.serverKeyDocument, provider, vector.nowMs);
      const verifyRecord = () =>
        verifyDeviceRecord(decodeHex(vector.recordHex), {
          provider,
          serverKeys,
          nowMs: vector.nowMs,
        });
      if (vector.expected.verdict === "rejected") {
        expect(errorCodeOf(verifyRecord)).toBe(vector.expected.error);
        return;
      }
      const { verdict: _verdict, signatures: _signatures, ...fields } = vector.expected;
      const record = verifyRecord();
      expect({ ...record, linkedDeviceIds: [...record.linkedDeviceIds] }).toMatchObject(fields);
    });
  });

  test.each(
    file.vectors
      .filter((vector) => vector.expected.verdict === "valid")
      .map((vector) => [vector.name, vector] as const),
  )("%s: signatures verify on plain node:crypto and match the record bytes", (_, vector) => {
    const signatures = vector.expected.verdict === "valid" ? vector.expected.signatures : undefined;
    const {
      deviceKey = "",
      deviceSignature = "",
      deviceSignedMessageHex = "",
      serverKey = "",
      attestationSignature = "",
      attestationSignedMessageHex = "",
    } = signatures ?? {};
    expect(verifiesOnNodeCrypto(deviceKey, deviceSignedMessageHex, deviceSignature)).toBe(true);
    expect(verifiesOnNodeCrypto(serverKey, attestationSignedMessageHex, attestationSignature)).toBe(
      true,
    );
    // Read the record with plain cborg, not the package's decoder.
    const record = decode(decodeHex(vector.recordHex)) as {
      deviceSignature: Uint8Array;
      body: { deviceKey: Uint8Array };
      attestation: { serverKey: Uint8Array; signature: Uint8Array };
    };
    expect(encodeHex(record.deviceSignature)).toBe(deviceSignature);
    expect(encodeHex(record.body.deviceKey)).toBe(deviceKey);
    expect(encodeHex(record.attestation.serverKey)).toBe(serverKey);
    expect(encodeHex(record.attestation.signature)).toBe(attestationSignature);
  });
});

describe("device revocation vectors", () => {
  const file = JSON.parse(readVectorFile("device-revocations")) as WorldFile & {
    vectors: {
      name: string;
      revocationHex: string;
      serverKeyDocument: string;
      nowMs: number;
      expected: Expected;
    }[];
  };

  test("every key is the key of its seed", () => checkKeys(file));

  test.each(file.vectors.map((vector) => [vector.name, vector] as const))("%s", (_, vector) => {
    for (const provider of providers) {
      const serverKeys = documentNamed(file, vector.serverKeyDocument, provider, vector.nowMs);
      const verifyRevocation = () =>
        verifyDeviceRevocation(decodeHex(vector.revocationHex), {
          provider,
          serverKeys,
          nowMs: vector.nowMs,
        });
      if (vector.expected.verdict === "rejected") {
        expect(errorCodeOf(verifyRevocation), provider.name).toBe(vector.expected.error);
      } else {
        const { verdict: _verdict, ...fields } = vector.expected;
        expect(verifyRevocation()).toMatchObject(fields);
      }
    }
  });
});

describe("device registry scenarios", () => {
  const file = JSON.parse(readVectorFile("device-registry")) as WorldFile & {
    serverKeyDocument: string;
    scenarios: { name: string; steps: RegistryStep[] }[];
  };
  const provider = nodeSignatureProvider;
  const firstStepMs = file.scenarios[0]?.steps[0]?.nowMs ?? 0;
  const serverKeys = documentNamed(file, file.serverKeyDocument, provider, firstStepMs);

  test.each(file.scenarios.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    (_, scenario) => {
      const registry = new DeviceRegistry();
      for (const [index, step] of scenario.steps.entries()) {
        const context = { provider, serverKeys, nowMs: step.nowMs };
        let outcome: string | readonly string[];
        if ("offer" in step) {
          const result = registry.offer(verifyDeviceRecord(decodeHex(step.offer), context));
          outcome = result.kind === "rejected" ? `rejected:${result.error.code}` : result.kind;
        } else if ("revoke" in step) {
          const result = registry.revoke(verifyDeviceRevocation(decodeHex(step.revoke), context));
          outcome = result.kind === "rejected" ? `rejected:${result.error.code}` : result.kind;
        } else {
          outcome = registry
            .linkedDevices(step.linkedDevicesOf as DeviceId, step.nowMs)
            .map((record) => record.deviceId);
        }
        expect(outcome, `step ${index}`).toEqual(step.expect);
      }
    },
  );
});

describe("server key document vectors", () => {
  const file = JSON.parse(readVectorFile("server-key-documents")) as WorldFile & {
    vectors: {
      document: string;
      expectedServer: string;
      nowMs: number;
      trusted: string | null;
      expected: Expected;
    }[];
    lookups: { document: string; cases: { publicKey: string; timeMs: number; expected: string }[] };
  };

  test("every key is the key of its seed", () => checkKeys(file));

  test.each(file.vectors.map((vector, index) => [`${index}: ${vector.document}`, vector] as const))(
    "%s",
    (_, vector) => {
      for (const provider of providers) {
        const document = file.documents.find((candidate) => candidate.name === vector.document);
        const trusted =
          vector.trusted === null
            ? undefined
            : documentNamed(file, vector.trusted, provider, vector.nowMs);
        const context = {
          provider,
          nowMs: vector.nowMs,
          expectedServer: parseServerName(vector.expectedServer),
        };
        const verifyDocument = () =>
          verifyServerKeyDocument(
            decodeHex(document?.hex ?? ""),
            trusted === undefined ? context : { ...context, trusted },
          );
        if (vector.expected.verdict === "rejected") {
          expect(errorCodeOf(verifyDocument), provider.name).toBe(vector.expected.error);
        } else {
          expect(verifyDocument().serial).toBe(vector.expected.serial);
        }
      }
    },
  );

  test("which key was valid when", () => {
    const lastCaseMs = Math.max(...file.lookups.cases.map((lookup) => lookup.timeMs));
    const document = documentNamed(file, file.lookups.document, nodeSignatureProvider, lastCaseMs);
    for (const lookup of file.lookups.cases) {
      const code = errorCodeOf(() =>
        serverKeyValidAt(document, decodeHex(lookup.publicKey), lookup.timeMs),
      );
      expect(code === "accepted" ? "valid" : code, `${lookup.publicKey} at ${lookup.timeMs}`).toBe(
        lookup.expected,
      );
    }
  });
});
