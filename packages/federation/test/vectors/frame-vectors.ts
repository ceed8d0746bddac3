/**
 * The frame test vectors: one or more valid frames of every type (each must
 * encode to exactly `hex`, and `hex` must decode to it) and invalid frames
 * (each must be refused with `error`). Another implementation can check its
 * codec against test-vectors/frames.json, which this module builds.
 */
import {
  type CborMap,
  type CborValue,
  deviceIdFromPublicKey,
  encodeCanonical,
  encodeHex,
  type JsonValue,
  makeUserId,
  roomIdFromBytes,
  type ServerName,
  toJsonValue,
} from "@parley/protocol";
import { EMPTY_BYTES } from "@parley/raft";
import { encodeControlEntry } from "@parley/room";
import { encodeControlRecord } from "../../src/control-lane/control-record.ts";
import { RoomReplica } from "../../src/control-lane/room-replica.ts";
import type { Frame } from "../../src/frames/frame.ts";
import { encodeFrame, frameValue } from "../../src/frames/frame-codec.ts";
import { sponsorNodeId } from "../../src/identity/sponsor-node-id.ts";

const alpha = "alpha.example" as ServerName;
const beta = "beta.example" as ServerName;
const gamma = "gamma.example" as ServerName;
const room = roomIdFromBytes(Uint8Array.from({ length: 16 }, (_, index) => index * 7));
const alice = makeUserId("alice", alpha);
const bob = makeUserId("bob", beta);
const carol = makeUserId("carol", beta);
const bobPhone = deviceIdFromPublicKey(new Uint8Array(32).fill(11));
const bobLaptop = deviceIdFromPublicKey(new Uint8Array(32).fill(12));
const alpha1 = sponsorNodeId(alpha, 1);
const beta2 = sponsorNodeId(beta, 2);

function sampleMessage(sequence: number) {
  return {
    room,
    origin: alpha1,
    sequence,
    controlIndex: 3,
    acceptedAtMs: 1_767_225_600_000 + sequence,
    sender: alice,
    clientMessageId: `client-${sequence}`,
    body: new TextEncoder().encode(`hello ${sequence}`),
  };
}

function controlFixtures() {
  const replica = RoomReplica.empty(room);
  const create = encodeControlRecord({
    entry: {
      actor: { type: "user", user: alice },
      action: {
        type: "create",
        roomId: room,
        kind: "plain",
        contentType: "text/plain",
        name: "vectors",
        topic: "",
        joinRule: "invite",
        sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
      },
      proposedAtMs: 1_767_225_600_000,
    },
    proposer: alpha,
    proposalId: 1,
  });
  replica.apply(create);
  const snapshot = replica.snapshot();
  const inviteEntry = {
    actor: { type: "user", user: alice },
    action: { type: "invite", target: bob },
    proposedAtMs: 1_767_225_601_000,
  } as const;
  const invite = replica.apply(
    encodeControlRecord({ entry: inviteEntry, proposer: alpha, proposalId: 2 }),
  );
  return { snapshot, invite: invite.at, inviteEntry };
}

export function validFrames(): Array<{ readonly name: string; readonly frame: Frame }> {
  const { snapshot, invite, inviteEntry } = controlFixtures();
  return [
    {
      name: "raft: append with a control record and a configuration change",
      frame: {
        type: "raft",
        messages: [
          {
            room,
            message: {
              type: "append",
              from: alpha1,
              to: beta2,
              term: 2,
              prevIndex: 4,
              prevTerm: 1,
              entries: [
                { type: "normal", term: 2, index: 5, data: invite.record },
                {
                  type: "confChange",
                  term: 2,
                  index: 6,
                  change: {
                    transition: "auto",
                    changes: [{ type: "addLearner", nodeId: sponsorNodeId(gamma, 5) }],
                    context: EMPTY_BYTES,
                  },
                },
              ],
              commit: 4,
            },
          },
          {
            room,
            message: {
              type: "voteResponse",
              from: alpha1,
              to: beta2,
              term: 2,
              reject: false,
            },
          },
        ],
      },
    },
    {
      name: "raft: snapshot",
      frame: {
        type: "raft",
        messages: [
          {
            room,
            message: {
              type: "snapshot",
              from: alpha1,
              to: beta2,
              term: 2,
              snapshot: {
                metadata: {
                  index: 7,
                  term: 2,
                  confState: {
                    voters: [alpha1],
                    votersOutgoing: [],
                    learners: [beta2],
                    learnersNext: [],
                    autoLeave: false,
                  },
                },
                data: new Uint8Array([1, 2, 3]),
              },
            },
          },
        ],
      },
    },
    {
      name: "heartbeats of two rooms and one response",
      frame: {
        type: "heartbeats",
        heartbeats: [
          {
            room,
            fromIncarnation: 1,
            toIncarnation: 2,
            term: 3,
            commit: 9,
            readRound: 0,
            quiesce: false,
          },
          {
            room: roomIdFromBytes(new Uint8Array(16)),
            fromIncarnation: 4,
            toIncarnation: 1,
            term: 1,
            commit: 2,
            readRound: 0,
            quiesce: true,
          },
        ],
        responses: [{ room, fromIncarnation: 1, toIncarnation: 2, term: 3, readRound: 1 }],
      },
    },
    {
      name: "link state",
      frame: {
        type: "link-state",
        advertisements: [
          { server: alpha, sequence: 1_767_225_600_000, peers: [beta, gamma] },
          { server: gamma, sequence: 17, peers: [] },
        ],
      },
    },
    {
      name: "routed message",
      frame: { type: "routed", message: sampleMessage(1), path: [alpha, beta] },
    },
    {
      name: "marks",
      frame: {
        type: "marks",
        room,
        controlIndex: 3,
        marks: [
          { origin: alpha1, sequence: 12 },
          { origin: beta2, sequence: 4 },
        ],
      },
    },
    {
      name: "backfill request",
      frame: { type: "backfill-request", room, origin: alpha1, after: 10, countMax: 128 },
    },
    {
      name: "backfill response",
      frame: {
        type: "backfill-response",
        room,
        origin: alpha1,
        messages: [sampleMessage(11), sampleMessage(12)],
      },
    },
    { name: "attach", frame: { type: "attach", room, controlIndex: 0 } },
    { name: "detach", frame: { type: "detach", room } },
    { name: "invite", frame: { type: "invite", room, sponsors: [alpha, beta] } },
    { name: "node query", frame: { type: "node-query", room, node: beta2 } },
    {
      name: "node status: removed",
      frame: {
        type: "node-status",
        room,
        node: beta2,
        controlIndex: 9,
        incarnation: 0,
        inConfiguration: false,
      },
    },
    {
      name: "control: snapshot and the record after it, with a certificate",
      frame: {
        type: "control",
        room,
        snapshot,
        records: [invite],
        certificate: {
          index: invite.index,
          chainHash: invite.chainHash,
          signatures: [
            [alpha, new Uint8Array(64).fill(1)],
            [beta, new Uint8Array(64).fill(2)],
          ],
        },
      },
    },
    {
      name: "control-signature",
      frame: {
        type: "control-signature",
        room,
        index: invite.index,
        chainHash: invite.chainHash,
        signature: new Uint8Array(64).fill(3),
      },
    },
    {
      name: "submit: a message",
      frame: {
        type: "submit",
        room,
        requestId: 7,
        submission: {
          kind: "message",
          sender: bob,
          clientMessageId: "b-1",
          body: new TextEncoder().encode("hi"),
        },
      },
    },
    {
      name: "submit: a control entry",
      frame: {
        type: "submit",
        room,
        requestId: 8,
        submission: { kind: "control", entry: encodeControlEntry(inviteEntry) },
      },
    },
    {
      name: "submit result: accepted",
      frame: {
        type: "submit-result",
        room,
        requestId: 7,
        outcome: { kind: "accepted", origin: alpha1, sequence: 13 },
      },
    },
    {
      name: "key package claim",
      frame: { type: "key-package-claim", requestId: 3, users: [bob, carol] },
    },
    {
      name: "key package claim result",
      frame: {
        type: "key-package-claim-result",
        requestId: 3,
        packages: [
          {
            user: bob,
            device: bobPhone,
            keyPackage: Uint8Array.from({ length: 24 }, (_, index) => index),
            lastResort: false,
          },
          { user: bob, device: bobLaptop, keyPackage: new Uint8Array([1, 2, 3]), lastResort: true },
        ],
        failures: [{ user: carol, code: "not_found", reason: "no such user here" }],
      },
    },
    {
      name: "submit result: refused",
      frame: {
        type: "submit-result",
        room,
        requestId: 8,
        outcome: { kind: "refused", code: "banned", reason: "the sender is banned" },
      },
    },
    {
      name: "receipts",
      frame: {
        type: "receipts",
        rooms: [
          {
            room,
            receipts: [
              {
                origin: alpha1,
                held: 12,
                devices: [
                  [9, 3],
                  [12, 1],
                ],
                devicesTotal: 4,
                refused: [[11, "banned"]],
              },
              { origin: beta2, held: 0, devices: [], devicesTotal: 0, refused: [] },
            ],
          },
        ],
      },
    },
    {
      name: "device list",
      frame: { type: "device-list", user: bob, list: new Uint8Array([0xa0]) },
    },
  ];
}

function withField(frame: Frame, path: readonly string[], value: CborValue | undefined): CborMap {
  const root = structuredClone(frameValue(frame)) as Record<string, CborValue>;
  let target = root as Record<string, CborValue>;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, CborValue>;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return root;
}

export function invalidFrames(): Array<{
  readonly name: string;
  readonly hex: string;
  readonly error: string;
}> {
  const frames = validFrames();
  const routed = frames.find((vector) => vector.frame.type === "routed")?.frame as Frame;
  const marks = frames.find((vector) => vector.frame.type === "marks")?.frame as Frame;
  const backfill = frames.find((vector) => vector.frame.type === "backfill-response")
    ?.frame as Frame;
  const control = frames.find((vector) => vector.frame.type === "control")?.frame as Frame;
  const attach: Frame = { type: "attach", room, controlIndex: 0 };
  const claim = frames.find((vector) => vector.frame.type === "key-package-claim")?.frame as Frame;
  const claimResult = frames.find((vector) => vector.frame.type === "key-package-claim-result")
    ?.frame as Frame;
  const encoded = (value: CborMap) => encodeHex(encodeCanonical(value));
  const receipts = frames.find((vector) => vector.frame.type === "receipts")?.frame as Frame;
  /** The sample receipts frame with its one room's receipts replaced by `receipt` alone. */
  const receiptsWith = (receipt: CborMap) =>
    encoded(withField(receipts, ["rooms", "0", "receipts"], [receipt]));
  const routedPath = (path: CborValue) => encoded(withField(routed, ["path"], path));
  return [
    { name: "truncated", hex: encodeHex(encodeFrame(attach)).slice(0, -2), error: "bad_encoding" },
    {
      name: "map keys out of canonical order",
      // {"type": "detach", "room": ...} with "type" first: longer key first is not canonical.
      hex: `a2${encodeHex(encodeCanonical("type"))}${encodeHex(encodeCanonical("detach"))}${encodeHex(encodeCanonical("room"))}${encodeHex(encodeCanonical(room))}`,
      error: "bad_encoding",
    },
    { name: "unknown frame type", hex: encoded({ type: "gossip", room }), error: "bad_structure" },
    {
      name: "receipts: device counts growing with the sequence",
      hex: receiptsWith({
        origin: alpha1,
        held: 12,
        devices: [
          [9, 1],
          [12, 3],
        ],
        devicesTotal: 4,
        refused: [],
      }),
      error: "bad_structure",
    },
    {
      name: "receipts: a step beyond what is held",
      hex: receiptsWith({
        origin: alpha1,
        held: 5,
        devices: [[9, 1]],
        devicesTotal: 4,
        refused: [],
      }),
      error: "bad_structure",
    },
    {
      name: "invite: sponsors not sorted",
      hex: encoded({ type: "invite", room, sponsors: [beta, alpha] }),
      error: "bad_structure",
    },
    {
      name: "invite: no sponsor",
      hex: encoded({ type: "invite", room, sponsors: [] }),
      error: "bad_structure",
    },
    {
      name: "unknown field",
      hex: encoded(withField(attach, ["extra"], 1)),
      error: "bad_structure",
    },
    {
      name: "missing field",
      hex: encoded(withField(attach, ["controlIndex"], undefined)),
      error: "bad_structure",
    },
    {
      name: "server name not canonical",
      hex: routedPath(["Alpha.example"]),
      error: "bad_structure",
    },
    {
      name: "path repeats a server",
      hex: routedPath([alpha, beta, alpha]),
      error: "bad_structure",
    },
    {
      name: "node id without incarnation",
      hex: encoded(withField(marks, ["marks"], [{ origin: alpha, sequence: 1 }])),
      error: "bad_structure",
    },
    {
      name: "marks out of order",
      hex: encoded(
        withField(
          marks,
          ["marks"],
          [
            { origin: beta2, sequence: 4 },
            { origin: alpha1, sequence: 12 },
          ],
        ),
      ),
      error: "bad_structure",
    },
    {
      name: "backfill response descending",
      hex: encoded(
        withField(
          backfill,
          ["messages"],
          [...(messagesOf(frameValue(backfill)) as CborValue[])].reverse(),
        ),
      ),
      error: "bad_structure",
    },
    {
      name: "control records not consecutive after the snapshot",
      hex: encoded(
        withField(control, ["records"], [
          { ...(recordsOf(frameValue(control)) as CborMap[])[0], index: 5 },
        ] as CborValue),
      ),
      error: "bad_structure",
    },
    {
      name: "key package claim naming a user twice",
      hex: encoded(withField(claim, ["users"], [bob, bob])),
      error: "bad_structure",
    },
    {
      name: "key package claim result with two packages for one device",
      hex: encoded(
        withField(claimResult, ["packages"], [
          ...(packagesOf(frameValue(claimResult)) as CborValue[]),
          ...(packagesOf(frameValue(claimResult)) as CborValue[]).slice(0, 1),
        ] as CborValue),
      ),
      error: "bad_structure",
    },
    {
      name: "key package over 4096 bytes",
      hex: encoded(
        withField(
          claimResult,
          ["packages"],
          [
            {
              user: bob,
              device: bobPhone,
              keyPackage: new Uint8Array(4097),
              lastResort: false,
            },
          ],
        ),
      ),
      error: "bad_structure",
    },
    {
      name: "negative sequence",
      hex: encoded(withField(routed, ["message", "sequence"], -1)),
      error: "bad_structure",
    },
  ];
}

function messagesOf(value: CborMap): CborValue | undefined {
  const { messages } = value;
  return messages;
}

function packagesOf(value: CborMap): CborValue | undefined {
  const { packages } = value;
  return packages;
}

function recordsOf(value: CborMap): CborValue | undefined {
  const { records } = value;
  return records;
}

export interface FrameVectorFile {
  readonly description: string;
  readonly valueNotation: string;
  readonly valid: ReadonlyArray<{
    readonly name: string;
    readonly value: JsonValue;
    readonly hex: string;
  }>;
  readonly invalid: ReadonlyArray<{
    readonly name: string;
    readonly hex: string;
    readonly error: string;
  }>;
}

export function buildFrameVectors(): FrameVectorFile {
  return {
    description:
      "Federation frames (docs/protocol.md, chapter 12). Each valid frame must encode to exactly `hex`, and `hex` must decode to it. Each invalid frame must be refused with `error`.",
    valueNotation:
      'A byte string is written {"$bytes": "<hex>"}; other values are themselves. No vector has a map whose only key is "$bytes".',
    valid: validFrames().map(({ name, frame }) => ({
      name,
      value: toJsonValue(frameValue(frame)),
      hex: encodeHex(encodeFrame(frame)),
    })),
    invalid: invalidFrames(),
  };
}

export function serializeVectors(file: FrameVectorFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
