import { describe, expect, it } from "vitest";
import { signatureContexts, signInContext } from "../crypto/contexts.ts";
import { sha256 } from "../crypto/hashing.ts";
import { nobleSignatureProvider } from "../crypto/noble-provider.ts";
import { keyPairFromSeed } from "../crypto/signature-provider.ts";
import { roomIdFromBytes } from "../identifiers/room-id.ts";
import { parseServerName, type ServerName } from "../identifiers/server-name.ts";
import { type ControlCertificate, certificateStatement } from "./certificate.ts";
import {
  type CertifiedRecords,
  checkCertifiedRecords,
  listedCertificateKeys,
} from "./certified-records.ts";
import { genesisChainHash, nextChainHash } from "./chain.ts";

const provider = nobleSignatureProvider;
const room = roomIdFromBytes(new Uint8Array(16).fill(7));
const otherRoom = roomIdFromBytes(new Uint8Array(16).fill(8));
const sponsors = ["a.example", "b.example", "c.example"].map(parseServerName);
const keyPairs = new Map(
  sponsors.map((server) => [
    server,
    keyPairFromSeed(provider, sha256(new TextEncoder().encode(`key of ${server}`))),
  ]),
);
const listed = new Map([...keyPairs].map(([server, pair]) => [server, [pair.publicKey]]));
const keys = listedCertificateKeys(provider, listed);
const records = [1, 2, 3, 4].map((index) => new TextEncoder().encode(`record ${index}`));

function chainAt(index: number): Uint8Array {
  let chain = genesisChainHash(room);
  for (const record of records.slice(0, index)) chain = nextChainHash(chain, record);
  return chain;
}

function certificate(index: number, signers: readonly ServerName[]): ControlCertificate {
  const chainHash = chainAt(index);
  const statement = certificateStatement(room, index, chainHash);
  const signatures = signers.map((server) => {
    const pair = keyPairs.get(server);
    if (pair === undefined) throw new Error(`no key for ${server}`);
    return [
      server,
      signInContext(provider, pair, signatureContexts.controlCertificate, statement),
    ] as const;
  });
  return { index, chainHash, signatures };
}

/** What a server serves for the records from `from` under a certificate at 4 signed by `signers`. */
function served(from: number, signers: readonly ServerName[]): CertifiedRecords {
  return {
    certificate: certificate(4, signers),
    sponsors,
    from,
    previousChainHash: chainAt(from - 1),
    records: records.slice(from - 1),
  };
}

describe("checkCertifiedRecords", () => {
  it("believes records that chain to a certificate a majority signed, from any index", () => {
    for (const from of [1, 2, 4]) {
      const majority = sponsors.slice(0, 2);
      expect(checkCertifiedRecords(room, served(from, majority), keys).kind).toBe("certified");
    }
  });

  it("refuses a changed record, a minority, another room and records that stop short", () => {
    const good = served(2, sponsors);
    const changed = {
      ...good,
      records: [records[0] ?? new Uint8Array(), ...good.records.slice(1)],
    };
    const short = { ...good, records: good.records.slice(1) };
    const minority = served(2, sponsors.slice(0, 1));
    const forgedStart = { ...served(1, sponsors), previousChainHash: chainAt(1) };
    for (const [name, value, at] of [
      ["changed record", changed, room],
      ["stops short", short, room],
      ["minority", minority, room],
      ["forged start", forgedStart, room],
      ["other room", good, otherRoom],
    ] as const) {
      const check = checkCertifiedRecords(at, value, keys);
      expect({ name, kind: check.kind }).toEqual({ name, kind: "refused" });
      if (check.kind === "refused") expect(check.error.code).toBe("certificate_invalid");
    }
  });

  it("neither believes nor refuses when a needed signer's keys are not listed", () => {
    const [first, second] = sponsors;
    if (first === undefined || second === undefined) throw new Error("sponsors");
    const withoutSecond = listedCertificateKeys(
      provider,
      new Map([[first, listed.get(first) ?? []]]),
    );
    const check = checkCertifiedRecords(room, served(3, [first, second]), withoutSecond);
    expect(check).toEqual({ kind: "keys-missing", servers: [second] });
  });
});
