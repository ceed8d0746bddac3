import { mlsFailureCodeList } from "@parley/mls";
/**
 * zod schemas of every frame, as decoded from canonical CBOR. They check
 * shape and sizes; rules that relate fields to each other (a path that
 * repeats a server, marks out of order) are checked after, in frame-codec.ts.
 * Every object is strict: an unknown field is an error, not ignored.
 */
import {
  type DeviceId,
  deviceListBytesMax,
  type RoomId,
  roomMessageClientIdPattern,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { roomLimits, roomRejectionCodes } from "@parley/room";
import { z } from "zod";
import {
  backfillMessagesPerBatchMax,
  controlRecordBytesMax,
  controlRecordsPerFrameMax,
  heartbeatsPerFrameMax,
  keyPackageBytesMax,
  keyPackageClaimPackagesMax,
  keyPackageClaimUsersMax,
  linkStateAdvertisementsPerFrameMax,
  linkStatePeersMax,
  messageBodyBytesMax,
  originsPerRoomMax,
  raftMessagesPerFrameMax,
  receiptDeviceStepsMax,
  receiptOriginsPerRoomMax,
  receiptRefusalsMax,
  receiptRoomsPerFrameMax,
  refusalReasonBytesMax,
  routedPathServersMax,
  snapshotBytesMax,
} from "../limits.ts";
import {
  isValidDeviceId,
  isValidNodeId,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
} from "./name-checks.ts";
import { raftMessageSchema } from "./raft-message-codec.ts";

const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, {
  message: "must be a byte string",
});

function bytesUpTo(bytesMax: number) {
  return bytes.refine((value) => value.length <= bytesMax, {
    message: `longer than ${bytesMax} bytes`,
  });
}

const count = z.int().nonnegative();
const positive = z.int().min(1);

export const roomIdSchema = z.custom<RoomId>(isValidRoomId, "not a room id");
export const serverNameSchema = z.custom<ServerName>(isValidServerName, "not a server name");
const userIdSchema = z.custom<UserId>(isValidUserId, "not a user id");
const nodeIdSchema = z.custom<NodeId>(isValidNodeId, "not a sponsor node id");
const deviceIdSchema = z.custom<DeviceId>(isValidDeviceId, "not a device id");

const hashSchema = bytes.refine((value) => value.length === 32, "must be 32 bytes");

export const stampedMessageSchema = z.strictObject({
  room: roomIdSchema,
  origin: nodeIdSchema,
  sequence: positive,
  controlIndex: positive,
  acceptedAtMs: count,
  sender: userIdSchema,
  clientMessageId: z.string().regex(roomMessageClientIdPattern),
  body: bytesUpTo(messageBodyBytesMax),
});

const raftFrame = z.strictObject({
  type: z.literal("raft"),
  messages: z
    .array(z.strictObject({ room: roomIdSchema, message: raftMessageSchema }))
    .min(1)
    .max(raftMessagesPerFrameMax),
});

const heartbeatTuple = z.tuple([
  roomIdSchema,
  positive,
  positive,
  count,
  count,
  count,
  z.boolean(),
]);
const heartbeatResponseTuple = z.tuple([roomIdSchema, positive, positive, count, count]);

const heartbeatFrame = z.strictObject({
  type: z.literal("heartbeats"),
  heartbeats: z.array(heartbeatTuple).max(heartbeatsPerFrameMax),
  responses: z.array(heartbeatResponseTuple).max(heartbeatsPerFrameMax),
});

const advertisementSchema = z.strictObject({
  server: serverNameSchema,
  sequence: positive,
  peers: z.array(serverNameSchema).max(linkStatePeersMax),
});

const linkStateFrame = z.strictObject({
  type: z.literal("link-state"),
  advertisements: z.array(advertisementSchema).min(1).max(linkStateAdvertisementsPerFrameMax),
});

const routedFrame = z.strictObject({
  type: z.literal("routed"),
  message: stampedMessageSchema,
  path: z.array(serverNameSchema).min(1).max(routedPathServersMax),
});

const marksFrame = z.strictObject({
  type: z.literal("marks"),
  room: roomIdSchema,
  controlIndex: count,
  marks: z
    .array(z.strictObject({ origin: nodeIdSchema, sequence: positive }))
    .max(originsPerRoomMax),
});

const backfillRequestFrame = z.strictObject({
  type: z.literal("backfill-request"),
  room: roomIdSchema,
  origin: nodeIdSchema,
  after: count,
  countMax: z.int().min(1).max(backfillMessagesPerBatchMax),
});

const backfillResponseFrame = z.strictObject({
  type: z.literal("backfill-response"),
  room: roomIdSchema,
  origin: nodeIdSchema,
  messages: z.array(stampedMessageSchema).max(backfillMessagesPerBatchMax),
});

const attachFrame = z.strictObject({
  type: z.literal("attach"),
  room: roomIdSchema,
  controlIndex: count,
});

const detachFrame = z.strictObject({ type: z.literal("detach"), room: roomIdSchema });

const inviteFrame = z.strictObject({
  type: z.literal("invite"),
  room: roomIdSchema,
  sponsors: z.array(serverNameSchema).min(1).max(roomLimits.sponsorsMax),
});

const nodeQueryFrame = z.strictObject({
  type: z.literal("node-query"),
  room: roomIdSchema,
  node: nodeIdSchema,
});

const nodeStatusFrame = z.strictObject({
  type: z.literal("node-status"),
  room: roomIdSchema,
  node: nodeIdSchema,
  controlIndex: count,
  incarnation: count,
  inConfiguration: z.boolean(),
});

export const controlSnapshotSchema = z.strictObject({
  index: positive,
  chainHash: hashSchema,
  state: bytesUpTo(snapshotBytesMax),
  incarnations: z.array(z.tuple([serverNameSchema, positive])).max(originsPerRoomMax),
});

const signatureSchema = bytes.refine((value) => value.length === 64, "must be 64 bytes");

const certificateSchema = z.strictObject({
  index: positive,
  chainHash: hashSchema,
  signatures: z
    .array(z.tuple([serverNameSchema, signatureSchema]))
    .min(1)
    .max(roomLimits.sponsorsMax),
});

const controlSignatureFrame = z.strictObject({
  type: z.literal("control-signature"),
  room: roomIdSchema,
  index: positive,
  chainHash: hashSchema,
  signature: signatureSchema,
});

const controlFrame = z.strictObject({
  type: z.literal("control"),
  room: roomIdSchema,
  snapshot: controlSnapshotSchema.nullable(),
  certificate: certificateSchema.nullable(),
  records: z
    .array(
      z.strictObject({
        index: positive,
        chainHash: hashSchema,
        record: bytesUpTo(controlRecordBytesMax),
      }),
    )
    .max(controlRecordsPerFrameMax),
});

const submissionSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("message"),
    sender: userIdSchema,
    clientMessageId: z.string().regex(roomMessageClientIdPattern),
    body: bytesUpTo(messageBodyBytesMax),
  }),
  z.strictObject({ kind: z.literal("control"), entry: bytesUpTo(controlRecordBytesMax) }),
]);

const submitFrame = z.strictObject({
  type: z.literal("submit"),
  room: roomIdSchema,
  requestId: count,
  submission: submissionSchema,
});

export const refusalCodes = [
  ...new Set([...roomRejectionCodes, ...mlsFailureCodeList]),
  "not_sponsor_here",
  "room_unknown",
  "unavailable",
  "capacity_exceeded",
  "signature_invalid",
  "device_revoked",
  "user_mismatch",
] as const;

const outcomeSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("accepted"), origin: nodeIdSchema, sequence: positive }),
  z.strictObject({ kind: z.literal("proposed") }),
  z.strictObject({
    kind: z.literal("refused"),
    code: z.enum(refusalCodes),
    reason: z.string().max(refusalReasonBytesMax),
  }),
]);

const submitResultFrame = z.strictObject({
  type: z.literal("submit-result"),
  room: roomIdSchema,
  requestId: count,
  outcome: outcomeSchema,
});

const keyPackageClaimFrame = z.strictObject({
  type: z.literal("key-package-claim"),
  requestId: count,
  users: z.array(userIdSchema).min(1).max(keyPackageClaimUsersMax),
});

const keyPackageClaimResultFrame = z.strictObject({
  type: z.literal("key-package-claim-result"),
  requestId: count,
  packages: z
    .array(
      z.strictObject({
        user: userIdSchema,
        device: deviceIdSchema,
        keyPackage: bytesUpTo(keyPackageBytesMax),
        lastResort: z.boolean(),
      }),
    )
    .max(keyPackageClaimPackagesMax),
  failures: z
    .array(
      z.strictObject({
        user: userIdSchema,
        code: z.enum(["not_found", "unavailable", "forbidden"]),
        reason: z.string().max(refusalReasonBytesMax),
      }),
    )
    .max(keyPackageClaimUsersMax),
});

const receiptsFrame = z.strictObject({
  type: z.literal("receipts"),
  rooms: z
    .array(
      z.strictObject({
        room: roomIdSchema,
        receipts: z
          .array(
            z.strictObject({
              origin: nodeIdSchema,
              held: count,
              devices: z.array(z.tuple([positive, positive])).max(receiptDeviceStepsMax),
              devicesTotal: count,
              refused: z.array(z.tuple([positive, z.enum(refusalCodes)])).max(receiptRefusalsMax),
            }),
          )
          .min(1)
          .max(receiptOriginsPerRoomMax),
      }),
    )
    .min(1)
    .max(receiptRoomsPerFrameMax),
});

/** The schema of any frame (before the cross-field checks of frame-codec.ts). */
const deviceListFrame = z.strictObject({
  type: z.literal("device-list"),
  user: userIdSchema,
  list: bytesUpTo(deviceListBytesMax),
});

export const frameSchema = z.discriminatedUnion("type", [
  raftFrame,
  heartbeatFrame,
  linkStateFrame,
  routedFrame,
  marksFrame,
  backfillRequestFrame,
  backfillResponseFrame,
  attachFrame,
  detachFrame,
  inviteFrame,
  nodeQueryFrame,
  nodeStatusFrame,
  controlFrame,
  controlSignatureFrame,
  submitFrame,
  submitResultFrame,
  keyPackageClaimFrame,
  keyPackageClaimResultFrame,
  receiptsFrame,
  deviceListFrame,
]);
