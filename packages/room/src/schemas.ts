import {
  isServerName,
  isUserId,
  parseDeviceId,
  parseRoomId,
  type RoomId,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import { z } from "zod";
import { roomLimits, utf8ByteLength } from "./limits.ts";
import { type Permissions, permissionNames, roles } from "./roles.ts";
import { joinRules, roomKinds, sponsorModes } from "./state.ts";

/**
 * The zod schemas for everything the room package reads from outside: control
 * entries (from clients and from the Raft log) and snapshots. One set of
 * schemas, so an entry and a snapshot cannot disagree on what a valid room is.
 */
const userId = z.custom<UserId>((value) => typeof value === "string" && isUserId(value), {
  message: "not a user id",
});
const serverName = z.custom<ServerName>(
  (value) => typeof value === "string" && isServerName(value),
  {
    message: "not a server name",
  },
);
const roomId = z.custom<RoomId>((value) => {
  if (typeof value !== "string") return false;
  try {
    parseRoomId(value);
    return true;
  } catch {
    return false;
  }
});

function boundedText(bytesMax: number) {
  return z.string().refine((text) => utf8ByteLength(text) <= bytesMax, {
    message: `longer than ${bytesMax} UTF-8 bytes`,
  });
}

const role = z.enum(roles);
const permissions = z.strictObject(
  Object.fromEntries(permissionNames.map((name) => [name, role])) as Record<
    keyof Permissions,
    typeof role
  >,
);
const serverAclPatterns = z
  .array(boundedText(roomLimits.serverAclPatternBytesMax))
  .max(roomLimits.serverAclPatternsMax);
const serverAcl = z.strictObject({ allow: serverAclPatterns, deny: serverAclPatterns });
const sponsorPolicy = z.strictObject({
  mode: z.enum(sponsorModes),
  sponsorsMax: z.number().int().min(1).max(roomLimits.sponsorsMax),
});
const reason = boundedText(roomLimits.reasonBytesMax);

const action = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("create"),
    roomId,
    kind: z.enum(roomKinds),
    contentType: boundedText(roomLimits.contentTypeBytesMax).pipe(z.string().min(1)),
    name: boundedText(roomLimits.nameBytesMax),
    topic: boundedText(roomLimits.topicBytesMax),
    joinRule: z.enum(joinRules),
    sponsorPolicy,
  }),
  z.strictObject({ type: z.literal("invite"), target: userId }),
  z.strictObject({ type: z.literal("join") }),
  z.strictObject({ type: z.literal("knock"), reason }),
  z.strictObject({ type: z.literal("leave") }),
  z.strictObject({ type: z.literal("kick"), target: userId, reason }),
  z.strictObject({ type: z.literal("ban"), target: userId, reason }),
  z.strictObject({ type: z.literal("unban"), target: userId }),
  z.strictObject({ type: z.literal("set-name"), name: boundedText(roomLimits.nameBytesMax) }),
  z.strictObject({ type: z.literal("set-topic"), topic: boundedText(roomLimits.topicBytesMax) }),
  z.strictObject({ type: z.literal("set-join-rule"), joinRule: z.enum(joinRules) }),
  z.strictObject({ type: z.literal("set-role"), target: userId, role }),
  z.strictObject({ type: z.literal("set-permissions"), permissions }),
  z.strictObject({
    type: z.literal("set-server-acl"),
    serverAcl,
  }),
  z.strictObject({ type: z.literal("set-sponsor-policy"), sponsorPolicy }),
  z.strictObject({ type: z.literal("add-sponsor"), server: serverName }),
  z.strictObject({ type: z.literal("remove-sponsor"), server: serverName }),
  z.strictObject({ type: z.literal("mls-commit") }),
]);

function boundedBytes(bytesMax: number) {
  return z.instanceof(Uint8Array).refine((bytes) => bytes.length <= bytesMax, {
    message: `longer than ${bytesMax} bytes`,
  });
}

const mlsBytes = boundedBytes(roomLimits.mlsObjectBytesMax);
const deviceId = z.string().refine(
  (value) => {
    try {
      parseDeviceId(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a device id" },
);
const mlsDevice = z.strictObject({ user: userId, device: deviceId });
const mlsPart = z.strictObject({
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  commit: mlsBytes.nullable(),
  groupInfo: mlsBytes,
  ratchetTree: mlsBytes,
  welcome: mlsBytes.nullable(),
  added: z.array(mlsDevice).max(roomLimits.mlsDevicesAddedMax),
});
const mlsGroup = z.strictObject({
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sinceIndex: z.number().int().min(1),
  groupInfo: mlsBytes,
  ratchetTree: mlsBytes,
  welcome: mlsBytes.nullable(),
  added: z.array(mlsDevice).max(roomLimits.mlsDevicesAddedMax),
});

const actor = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("user"), user: userId }),
  z.strictObject({ type: z.literal("server"), server: serverName }),
]);

const controlEntry = z.strictObject({
  actor,
  action,
  proposedAtMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  mls: mlsPart.optional(),
});

export const schemas = {
  userId,
  serverName,
  roomId,
  role,
  permissions,
  serverAcl,
  sponsorPolicy,
  action,
  controlEntry,
  mlsGroup,
  boundedText,
} as const;
