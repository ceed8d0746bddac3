/**
 * Stories acting as a malicious server against a leaf (§12.6.1): a forged
 * control record is applied only under a certificate signed by a majority of
 * the sponsors at its index, over the chain hash the leaf computes itself.
 * A non-sponsor's signatures, a minority, an old certificate relabelled for
 * a newer index, and a wrong chain hash are each refused with
 * `certificate_invalid`, and the leaf's state does not move; the same record
 * under a true majority certificate applies, which shows the forgeries fail
 * for the reason claimed.
 */
import type { ControlCertificate, ServerName } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { encodeControlRecord, nextChainHash } from "../../src/control-lane/control-record.ts";
import { sharedSecretKeys } from "../../src/control-lane/shared-secret-keys.ts";
import type { ControlFrame } from "../../src/frames/frame.ts";
import type { FederationEffects } from "../../src/host/effects.ts";
import { isConverged } from "../../src/simulation/end-checks.ts";
import { createWorld, runUntil, setUp } from "../../src/simulation/run-seed.ts";
import { simulationSecretOf } from "../../src/simulation/simulated-server.ts";

const mallory = "mallory.test" as ServerName;

function settledWorld() {
  const world = createWorld(7, { sponsorCount: 3, leafCount: 1 });
  expect(setUp(world)).toBe(true);
  expect(runUntil(world, () => isConverged(world), 10_000, 250)).toBe(true);
  const room = world.room;
  const leaf = world.servers[3];
  const session = room === null ? undefined : leaf?.host?.session(room);
  if (room === null || leaf === undefined || session === undefined) throw new Error("set up");
  expect(session.isSponsor).toBe(false);
  const sponsors = session.replica.sponsors;
  expect(sponsors).toHaveLength(3);
  const admin = session.replica.state?.creator;
  if (admin === undefined) throw new Error("a created room");
  // The forged record: the admin "sets the topic", which no sponsor committed.
  const record = encodeControlRecord({
    entry: {
      actor: { type: "user", user: admin },
      action: { type: "set-topic", topic: "forged" },
      proposedAtMs: 0,
    },
    proposer: mallory,
    proposalId: 1,
  });
  const index = session.replica.appliedIndex + 1;
  const chainHash = nextChainHash(session.replica.chainHash, record);
  const sign = (server: ServerName, at = index, hash = chainHash): [ServerName, Uint8Array] => [
    server,
    sharedSecretKeys(server, simulationSecretOf).sign(room, at, hash),
  ];
  const send = (certificate: ControlCertificate | null): FederationEffects => {
    const frame: ControlFrame = {
      type: "control",
      room,
      snapshot: null,
      records: [{ index, chainHash, record }],
      certificate,
    };
    const host = leaf.host;
    if (host === null) throw new Error("the leaf runs");
    return host.receiveFrame(sponsors[0] ?? mallory, frame);
  };
  const refusals = (effects: FederationEffects) =>
    effects.events.flatMap((event) => (event.type === "peer-error" ? [event.error.code] : []));
  return { world, room, session, sponsors, index, chainHash, sign, send, refusals };
}

describe("control certificates at a leaf", () => {
  it("refuses a record certified by a server that is not a sponsor", () => {
    const { session, index, chainHash, sign, send, refusals } = settledWorld();
    const effects = send({ index, chainHash, signatures: [sign(mallory)] });
    expect(refusals(effects)).toEqual(["certificate_invalid"]);
    expect(session.replica.appliedIndex).toBe(index - 1);
    expect(session.replica.state?.topic).not.toBe("forged");
  });

  it("refuses a record signed by a minority of the sponsors", () => {
    const { session, sponsors, index, chainHash, sign, send, refusals } = settledWorld();
    const [first] = sponsors;
    if (first === undefined) throw new Error("sponsors");
    const effects = send({ index, chainHash, signatures: [sign(first), sign(mallory)] });
    expect(refusals(effects)).toEqual(["certificate_invalid"]);
    expect(session.replica.appliedIndex).toBe(index - 1);
  });

  it("refuses an old certificate relabelled for the newer index", () => {
    const { session, index, chainHash, send, refusals } = settledWorld();
    const old = session.certificate;
    if (old === null) throw new Error("the leaf holds a certificate");
    expect(old.index).toBe(index - 1);
    // As it was: covers nothing new, so the record stays unapplied.
    expect(refusals(send(old))).toEqual([]);
    expect(session.replica.appliedIndex).toBe(index - 1);
    // Relabelled: the signatures are over the old index and hash.
    const effects = send({ ...old, index, chainHash });
    expect(refusals(effects)).toEqual(["certificate_invalid"]);
    expect(session.replica.appliedIndex).toBe(index - 1);
  });

  it("refuses a majority certificate over another chain hash", () => {
    const { session, sponsors, index, sign, send, refusals } = settledWorld();
    const wrong = new Uint8Array(32).fill(9);
    const signatures = sponsors.slice(0, 2).map((server) => sign(server, index, wrong));
    const effects = send({ index, chainHash: wrong, signatures });
    expect(refusals(effects)).toEqual(["certificate_invalid"]);
    expect(session.replica.appliedIndex).toBe(index - 1);
  });

  it("applies the same record under a majority certificate of the sponsors at its index", () => {
    const { session, sponsors, index, chainHash, sign, send, refusals } = settledWorld();
    const signatures = sponsors.slice(0, 2).map((server) => sign(server));
    const effects = send({ index, chainHash, signatures });
    expect(refusals(effects)).toEqual([]);
    expect(session.replica.appliedIndex).toBe(index);
    expect(session.replica.state?.topic).toBe("forged");
    expect(session.certificate?.index).toBe(index);
  });
});
