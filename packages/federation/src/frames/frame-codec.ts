/**
 * Frames to and from canonical CBOR. Decoding never throws anything but a
 * ParleyError: `payload_too_large` for a frame over its size limit,
 * `bad_encoding` for bytes that are not canonical CBOR within the limits,
 * `bad_structure` for a value that is not a valid frame. A bad frame is the
 * peer's fault; the caller reports it (and may close the link with the code's
 * close code), and nothing of it reaches a core.
 */
import {
  type CborMap,
  type DecodeLimits,
  decodeCanonical,
  encodeCanonical,
  ParleyError,
  toParleyError,
} from "@parley/protocol";
import type { z } from "zod";
import {
  frameBytesMax,
  frameContainerItemsMax,
  frameDepthMax,
  ordinaryFrameBytesMax,
  snapshotBytesMax,
} from "../limits.ts";
import type { StampedMessage } from "../message-lane/stamped-message.ts";
import type {
  ControlSnapshot,
  Frame,
  KeyPackageClaimResultFrame,
  ReceiptsFrame,
  Submission,
  SubmissionOutcome,
} from "./frame.ts";
import { frameSchema } from "./frame-schemas.ts";
import { raftMessageValue } from "./raft-message-codec.ts";

const frameDecodeLimits: DecodeLimits = {
  totalBytesMax: frameBytesMax,
  depthMax: frameDepthMax,
  containerItemsMax: frameContainerItemsMax,
  stringBytesMax: snapshotBytesMax,
};

/** Only these frame types may carry a snapshot, so only they may be larger than ordinary. */
const largeFrameTypes: ReadonlySet<Frame["type"]> = new Set(["raft", "control"]);

export function stampedMessageValue(message: StampedMessage): CborMap {
  return {
    room: message.room,
    origin: message.origin,
    sequence: message.sequence,
    controlIndex: message.controlIndex,
    acceptedAtMs: message.acceptedAtMs,
    sender: message.sender,
    clientMessageId: message.clientMessageId,
    body: message.body,
  };
}

export function controlSnapshotValue(snapshot: ControlSnapshot): CborMap {
  return {
    index: snapshot.index,
    chainHash: snapshot.chainHash,
    state: snapshot.state,
    incarnations: snapshot.incarnations.map(([server, incarnation]) => [server, incarnation]),
  };
}

function submissionValue(submission: Submission): CborMap {
  return submission.kind === "message"
    ? {
        kind: "message",
        sender: submission.sender,
        clientMessageId: submission.clientMessageId,
        body: submission.body,
      }
    : { kind: "control", entry: submission.entry };
}

function outcomeValue(outcome: SubmissionOutcome): CborMap {
  switch (outcome.kind) {
    case "accepted":
      return { kind: "accepted", origin: outcome.origin, sequence: outcome.sequence };
    case "proposed":
      return { kind: "proposed" };
    case "refused":
      return { kind: "refused", code: outcome.code, reason: outcome.reason };
  }
}

/** The CBOR value of a frame, every field written out explicitly. */
export function frameValue(frame: Frame): CborMap {
  switch (frame.type) {
    case "raft":
      return {
        type: frame.type,
        messages: frame.messages.map((item) => ({
          room: item.room,
          message: raftMessageValue(item.message),
        })),
      };
    case "heartbeats":
      return {
        type: frame.type,
        heartbeats: frame.heartbeats.map((beat) => [
          beat.room,
          beat.fromIncarnation,
          beat.toIncarnation,
          beat.term,
          beat.commit,
          beat.readRound,
          beat.quiesce,
        ]),
        responses: frame.responses.map((response) => [
          response.room,
          response.fromIncarnation,
          response.toIncarnation,
          response.term,
          response.readRound,
        ]),
      };
    case "link-state":
      return {
        type: frame.type,
        advertisements: frame.advertisements.map((advertisement) => ({
          server: advertisement.server,
          sequence: advertisement.sequence,
          peers: [...advertisement.peers],
        })),
      };
    case "routed":
      return {
        type: frame.type,
        message: stampedMessageValue(frame.message),
        path: [...frame.path],
      };
    case "marks":
      return {
        type: frame.type,
        room: frame.room,
        controlIndex: frame.controlIndex,
        marks: frame.marks.map((mark) => ({ origin: mark.origin, sequence: mark.sequence })),
      };
    case "backfill-request":
      return {
        type: frame.type,
        room: frame.room,
        origin: frame.origin,
        after: frame.after,
        countMax: frame.countMax,
      };
    case "backfill-response":
      return {
        type: frame.type,
        room: frame.room,
        origin: frame.origin,
        messages: frame.messages.map(stampedMessageValue),
      };
    case "attach":
      return { type: frame.type, room: frame.room, controlIndex: frame.controlIndex };
    case "detach":
      return { type: frame.type, room: frame.room };
    case "invite":
      return { type: frame.type, room: frame.room, sponsors: [...frame.sponsors] };
    case "node-query":
      return { type: frame.type, room: frame.room, node: frame.node };
    case "node-status":
      return {
        type: frame.type,
        room: frame.room,
        node: frame.node,
        controlIndex: frame.controlIndex,
        incarnation: frame.incarnation,
        inConfiguration: frame.inConfiguration,
      };
    case "control":
      return {
        type: frame.type,
        room: frame.room,
        snapshot: frame.snapshot === null ? null : controlSnapshotValue(frame.snapshot),
        records: frame.records.map((record) => ({
          index: record.index,
          chainHash: record.chainHash,
          record: record.record,
        })),
        certificate:
          frame.certificate === null
            ? null
            : {
                index: frame.certificate.index,
                chainHash: frame.certificate.chainHash,
                signatures: frame.certificate.signatures.map(([server, signature]) => [
                  server,
                  signature,
                ]),
              },
      };
    case "control-signature":
      return {
        type: frame.type,
        room: frame.room,
        index: frame.index,
        chainHash: frame.chainHash,
        signature: frame.signature,
      };
    case "submit":
      return {
        type: frame.type,
        room: frame.room,
        requestId: frame.requestId,
        submission: submissionValue(frame.submission),
      };
    case "submit-result":
      return {
        type: frame.type,
        room: frame.room,
        requestId: frame.requestId,
        outcome: outcomeValue(frame.outcome),
      };
    case "key-package-claim":
      return { type: frame.type, requestId: frame.requestId, users: [...frame.users] };
    case "key-package-claim-result":
      return {
        type: frame.type,
        requestId: frame.requestId,
        packages: frame.packages.map((claimed) => ({
          user: claimed.user,
          device: claimed.device,
          keyPackage: claimed.keyPackage,
          lastResort: claimed.lastResort,
        })),
        failures: frame.failures.map((failure) => ({
          user: failure.user,
          code: failure.code,
          reason: failure.reason,
        })),
      };
    case "receipts":
      return {
        type: frame.type,
        rooms: frame.rooms.map((room) => ({
          room: room.room,
          receipts: room.receipts.map((receipt) => ({
            origin: receipt.origin,
            held: receipt.held,
            devices: receipt.devices.map(([sequence, devices]) => [sequence, devices]),
            devicesTotal: receipt.devicesTotal,
            refused: receipt.refused.map(([sequence, code]) => [sequence, code]),
          })),
        })),
      };
    case "device-list":
      return { type: frame.type, user: frame.user, list: frame.list };
  }
}

/** Canonical CBOR of a frame. Throws `invalid_argument` for a frame this package could not have made. */
export function encodeFrame(frame: Frame): Uint8Array {
  return encodeCanonical(frameValue(frame));
}

/** Decodes and validates a frame from a peer. Throws only ParleyError (see the file comment). */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length > frameBytesMax) {
    throw new ParleyError("payload_too_large", `frame of ${bytes.length} bytes`);
  }
  try {
    const parsed = frameSchema.safeParse(decodeCanonical(bytes, frameDecodeLimits));
    if (!parsed.success) throw structureError(parsed.error);
    const frame = fromParsed(parsed.data);
    if (!largeFrameTypes.has(frame.type) && bytes.length > ordinaryFrameBytesMax) {
      throw new ParleyError("payload_too_large", `${frame.type} frame of ${bytes.length} bytes`);
    }
    checkFrameRules(frame);
    return frame;
  } catch (thrown) {
    // Anything but a ParleyError here is a bug in a schema or check, not the peer's fault;
    // it still must not crash the link's reader.
    throw toParleyError(thrown);
  }
}

type ParsedFrame = z.output<typeof frameSchema>;

function fromParsed(parsed: ParsedFrame): Frame {
  if (parsed.type !== "heartbeats") return parsed;
  return {
    type: "heartbeats",
    heartbeats: parsed.heartbeats.map(
      ([room, fromIncarnation, toIncarnation, term, commit, readRound, quiesce]) => ({
        room,
        fromIncarnation,
        toIncarnation,
        term,
        commit,
        readRound,
        quiesce,
      }),
    ),
    responses: parsed.responses.map(([room, fromIncarnation, toIncarnation, term, readRound]) => ({
      room,
      fromIncarnation,
      toIncarnation,
      term,
      readRound,
    })),
  };
}

/** Rules across fields, which a schema cannot say. */
function checkFrameRules(frame: Frame): void {
  switch (frame.type) {
    case "routed":
      requireDistinct(frame.path, "path repeats a server");
      return;
    case "marks":
      requireSortedUnique(
        frame.marks.map((mark) => mark.origin),
        "marks must be sorted by origin, once each",
      );
      return;
    case "link-state":
      for (const advertisement of frame.advertisements) {
        requireSortedUnique(advertisement.peers, "peers must be sorted, once each");
        if (advertisement.peers.includes(advertisement.server)) {
          throw new ParleyError("bad_structure", "a server does not list itself as a peer");
        }
      }
      return;
    case "backfill-response":
      checkBackfillResponse(frame.room, frame.origin, frame.messages);
      return;
    case "control":
      checkControlRecords(frame.snapshot, frame.records);
      if (frame.certificate !== null) {
        requireSortedUnique(
          frame.certificate.signatures.map(([server]) => server),
          "certificate signatures must be sorted by server, once each",
        );
      }
      return;
    case "key-package-claim":
      requireDistinct(frame.users, "a claim names a user twice");
      return;
    case "key-package-claim-result":
      checkClaimResult(frame);
      return;
    case "invite":
      requireSortedUnique(frame.sponsors, "sponsors must be sorted, once each");
      return;
    case "receipts":
      checkReceipts(frame);
      return;
    default:
      return;
  }
}

function checkBackfillResponse(
  room: string,
  origin: string,
  messages: readonly StampedMessage[],
): void {
  let previous = 0;
  for (const message of messages) {
    if (message.room !== room || message.origin !== origin) {
      throw new ParleyError("bad_structure", "a backfill response holds another room or origin");
    }
    if (message.sequence <= previous) {
      throw new ParleyError("bad_structure", "backfill messages must ascend by sequence");
    }
    previous = message.sequence;
  }
}

function checkControlRecords(
  snapshot: ControlSnapshot | null,
  records: readonly { readonly index: number }[],
): void {
  let expected = snapshot === null ? undefined : snapshot.index + 1;
  for (const record of records) {
    if (expected !== undefined && record.index !== expected) {
      throw new ParleyError("bad_structure", "control records must be consecutive");
    }
    expected = record.index + 1;
  }
}

function checkClaimResult(frame: KeyPackageClaimResultFrame): void {
  requireDistinct(
    frame.packages.map((claimed) => `${claimed.user} ${claimed.device}`),
    "a claim result holds two packages for one device",
  );
  const failed = frame.failures.map((failure) => failure.user);
  requireDistinct(failed, "a claim result names a failed user twice");
  const failedUsers = new Set(failed);
  if (frame.packages.some((claimed) => failedUsers.has(claimed.user))) {
    throw new ParleyError("bad_structure", "a claim result both fails and serves a user");
  }
}

/** §12.13: one entry per room and per origin; steps ascend by sequence and descend by count, within the totals. */
function checkReceipts(frame: ReceiptsFrame): void {
  requireDistinct(
    frame.rooms.map((room) => room.room),
    "receipts name a room twice",
  );
  for (const room of frame.rooms) {
    requireDistinct(
      room.receipts.map((receipt) => receipt.origin),
      "receipts name an origin twice in a room",
    );
    for (const receipt of room.receipts) {
      let previous: readonly [number, number] | undefined;
      for (const step of receipt.devices) {
        const [sequence, devices] = step;
        const ordered =
          previous === undefined || (sequence > previous[0] && devices <= previous[1]);
        if (!ordered || sequence > receipt.held || devices > receipt.devicesTotal) {
          throw new ParleyError(
            "bad_structure",
            "device steps must ascend by sequence and descend by count, within held and devicesTotal",
          );
        }
        previous = step;
      }
      for (const [sequence, code] of receipt.refused) {
        if (sequence > receipt.held) {
          throw new ParleyError("bad_structure", `a refusal (${code}) names a sequence not held`);
        }
      }
    }
  }
}

function requireDistinct(items: readonly string[], message: string): void {
  if (new Set(items).size !== items.length) throw new ParleyError("bad_structure", message);
}

function requireSortedUnique(items: readonly string[], message: string): void {
  for (let position = 1; position < items.length; position += 1) {
    const before = items[position - 1];
    const current = items[position];
    if (before === undefined || current === undefined || !(before < current)) {
      throw new ParleyError("bad_structure", message);
    }
  }
}

function structureError(error: z.ZodError): ParleyError {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
  return new ParleyError("bad_structure", `invalid frame${where}: ${issue?.message ?? "?"}`, {
    cause: error,
  });
}
