import type { ServerName } from "@parley/protocol";
import { type ControlCertificate, checkCertificate, majorityOf } from "@parley/protocol";
import type { ControlSignatureFrame } from "../frames/frame.ts";
import type { HostContext } from "./host-context.ts";
import type { GatheredSignature, RoomSession } from "./room-session.ts";

/**
 * Certification on a sponsor (docs/protocol.md §12.6.1). After each round in
 * which it applied records, a sponsor signs (room, index, chain hash) for
 * its newest applied index and sends the signature to the room's other
 * sponsors; a sponsor that receives a signature for an index it has applied
 * and no certificate covers yet signs that index too, so the sponsors meet
 * on common indexes even when they apply in different batches. Signatures
 * of a majority of the sponsor set at an index form a certificate, which
 * the sponsor keeps (the newest only) and sends to its leaves.
 */

/** Indexes above the newest certificate a sponsor gathers signatures for; older ones are dropped. */
const gatheredIndexesMax = 64;
/** Sponsor-set changes remembered to know the set at a recent index. */
const sponsorChangesMax = 64;

/** Records a change of the sponsor set at the index just applied (called after each apply). */
export function trackSponsorSet(session: RoomSession): void {
  const sponsors = session.replica.sponsors;
  const last = session.sponsorChanges.at(-1);
  if (last !== undefined && sameServers(last.sponsors, sponsors)) return;
  session.sponsorChanges.push({ index: session.replica.appliedIndex, sponsors });
  if (session.sponsorChanges.length > sponsorChangesMax) session.sponsorChanges.shift();
}

/** The sponsor set in the state at `index` (at most the applied index), or undefined if forgotten. */
export function sponsorsAt(session: RoomSession, index: number): readonly ServerName[] | undefined {
  if (index === session.replica.appliedIndex) return session.replica.sponsors;
  let found: readonly ServerName[] | undefined;
  for (const change of session.sponsorChanges) {
    if (change.index > index) break;
    found = change.sponsors;
  }
  return found;
}

/** After a Raft round: sign the newest applied index once. */
export function signApplied(context: HostContext, session: RoomSession): void {
  if (!session.isSponsor || context.keys === null) return;
  const index = session.replica.appliedIndex;
  if (index <= session.signedIndex || index === 0) return;
  signAndSend(context, session, index, session.replica.chainHash);
  // Signatures that arrived before we applied their index count now.
  for (const gathered of [...session.gatheredSignatures.keys()]) {
    if (gathered <= index) tryCertify(context, session, gathered);
  }
}

function signAndSend(
  context: HostContext,
  session: RoomSession,
  index: number,
  chainHash: Uint8Array,
): void {
  const keys = context.keys;
  if (keys === null) return;
  session.signedIndex = Math.max(session.signedIndex, index);
  const signature = keys.sign(session.room, index, chainHash);
  gather(session, context.self, index, chainHash, { signature, verified: true });
  sendSignature(context, session, index, signature);
  tryCertify(context, session, index);
}

function gather(
  session: RoomSession,
  server: ServerName,
  index: number,
  chainHash: Uint8Array,
  signature: GatheredSignature,
): void {
  let entry = session.gatheredSignatures.get(index);
  if (entry === undefined) {
    if (session.gatheredSignatures.size >= gatheredIndexesMax) {
      const oldest = Math.min(...session.gatheredSignatures.keys());
      if (oldest > index) return;
      session.gatheredSignatures.delete(oldest);
    }
    entry = { chainHash, signers: new Map() };
    session.gatheredSignatures.set(index, entry);
  }
  entry.signers.set(server, signature);
}

/**
 * At each tick: while no certificate covers the index this sponsor signed
 * last, it sends that signature again every `attachRetryTicks` (signature
 * frames can be lost, and a sponsor that restarted lost its certificate),
 * so the newest index gets certified even in a room that has gone quiet.
 */
export function certificationDuties(context: HostContext, session: RoomSession): void {
  const signed = session.signedIndex;
  if (context.keys === null || signed === 0) return;
  if ((session.certificate?.index ?? 0) >= signed) return;
  if (context.tick - session.signatureSentTick < context.timing.attachRetryTicks) return;
  const own = session.gatheredSignatures.get(signed)?.signers.get(context.self);
  if (own === undefined) return;
  sendSignature(context, session, signed, own.signature);
}

function sendSignature(
  context: HostContext,
  session: RoomSession,
  index: number,
  signature: Uint8Array,
): void {
  session.signatureSentTick = context.tick;
  const chainHash = session.gatheredSignatures.get(index)?.chainHash;
  if (chainHash === undefined) return;
  for (const sponsor of sponsorsAt(session, index) ?? session.replica.sponsors) {
    if (sponsor === context.self) continue;
    context.outbox.send(sponsor, {
      type: "control-signature",
      room: session.room,
      index,
      chainHash,
      signature,
    });
  }
}

/**
 * A sponsor sends a signature for an index our certificate already covers
 * (it restarted and lost its certificate, or ours formed first): it gets the
 * certificate itself, in a control frame, at most once per retry period.
 * Answering with the certificate rather than a signature keeps two sponsors
 * that both hold it from answering each other for ever.
 */
function answerCertified(context: HostContext, session: RoomSession, peer: ServerName): void {
  const certificate = session.certificate;
  if (certificate === null) return;
  const last = session.certificateAnsweredTick.get(peer) ?? Number.NEGATIVE_INFINITY;
  if (context.tick - last < context.timing.attachRetryTicks) return;
  session.certificateAnsweredTick.set(peer, context.tick);
  context.outbox.send(peer, {
    type: "control",
    room: session.room,
    snapshot: null,
    records: [],
    certificate,
  });
}

/** A certificate another sponsor sent us: kept when it is newer than ours and verifies on our own log. */
export function adoptCertificate(
  context: HostContext,
  session: RoomSession,
  certificate: ControlCertificate | null,
): void {
  const keys = context.keys;
  if (certificate === null || keys === null || !session.isSponsor) return;
  if (certificate.index <= (session.certificate?.index ?? 0)) return;
  const sponsors = sponsorsAt(session, certificate.index);
  const chainHash = chainHashAt(session, certificate.index);
  if (sponsors === undefined || chainHash === undefined) return;
  const at = { index: certificate.index, chainHash };
  if (checkCertificate(session.room, certificate, at, sponsors, keys).kind !== "certified") return;
  keepCertificate(context, session, certificate);
}

/** A signature from another sponsor. */
export function receiveControlSignature(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  frame: ControlSignatureFrame,
): void {
  const keys = context.keys;
  if (!session.isSponsor || keys === null) return;
  if (frame.index <= (session.certificate?.index ?? 0)) {
    answerCertified(context, session, peer);
    return;
  }
  const applied = session.replica.appliedIndex;
  if (frame.index > applied) {
    // Checked once we apply the index (signApplied).
    gather(session, peer, frame.index, frame.chainHash, {
      signature: frame.signature,
      verified: false,
    });
    return;
  }
  const sponsors = sponsorsAt(session, frame.index);
  const ours = chainHashAt(session, frame.index);
  if (sponsors === undefined || ours === undefined || !sponsors.includes(peer)) return;
  const verdict = keys.verify(peer, session.room, frame.index, ours, frame.signature);
  if (verdict !== "valid") return;
  gather(session, peer, frame.index, ours, { signature: frame.signature, verified: true });
  if (!signedBy(session, context.self, frame.index))
    signAndSend(context, session, frame.index, ours);
  else tryCertify(context, session, frame.index);
}

function signedBy(session: RoomSession, server: ServerName, index: number): boolean {
  return session.gatheredSignatures.get(index)?.signers.has(server) ?? false;
}

function chainHashAt(session: RoomSession, index: number): Uint8Array | undefined {
  return session.replica.chainHashAt(index);
}

/** Forms a certificate at `index` when a majority of the sponsors there signed our chain hash. */
function tryCertify(context: HostContext, session: RoomSession, index: number): void {
  const entry = session.gatheredSignatures.get(index);
  const sponsors = sponsorsAt(session, index);
  const keys = context.keys;
  if (entry === undefined || sponsors === undefined || keys === null) return;
  if (index > session.replica.appliedIndex) return;
  const ours = chainHashAt(session, index);
  if (ours === undefined) return;
  const signatures: Array<readonly [ServerName, Uint8Array]> = [];
  for (const sponsor of [...sponsors].sort()) {
    const gathered = entry.signers.get(sponsor);
    if (gathered === undefined) continue;
    // Early signatures were kept unverified; check them against our own chain now.
    if (!gathered.verified) {
      const verdict = keys.verify(sponsor, session.room, index, ours, gathered.signature);
      if (verdict !== "valid") {
        entry.signers.delete(sponsor);
        continue;
      }
      gathered.verified = true;
    }
    signatures.push([sponsor, gathered.signature]);
  }
  if (signatures.length < majorityOf(sponsors.length)) return;
  keepCertificate(context, session, { index, chainHash: ours, signatures });
}

function keepCertificate(
  context: HostContext,
  session: RoomSession,
  certificate: ControlCertificate,
): void {
  session.certificate = certificate;
  context.storage.saveCertificate(session.room, certificate);
  for (const gathered of [...session.gatheredSignatures.keys()]) {
    if (gathered <= certificate.index) session.gatheredSignatures.delete(gathered);
  }
  announceCertificate(context, session, certificate);
}

/** Sends a new certificate to every attached leaf (the records reached them as they applied). */
function announceCertificate(
  context: HostContext,
  session: RoomSession,
  certificate: ControlCertificate,
): void {
  for (const leaf of session.attachedLeaves.keys()) {
    context.outbox.send(leaf, {
      type: "control",
      room: session.room,
      snapshot: null,
      records: [],
      certificate,
    });
  }
}

function sameServers(left: readonly ServerName[], right: readonly ServerName[]): boolean {
  return left.length === right.length && left.every((server, index) => server === right[index]);
}
