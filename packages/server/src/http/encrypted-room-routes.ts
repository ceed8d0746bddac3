// Routes for encrypted rooms (docs/protocol.md §10.13): the room id to create
// a group for, commits with the room action they claim, the applied commits,
// and the current GroupInfo for external joins. Creating the room itself is
// `POST /rooms` with `kind: "encrypted"` (room-routes.ts).

import type { RoomId } from "@parley/protocol";
import { roomLimits } from "@parley/room";
import { z } from "zod";
import { joinViaServersMax } from "../federation/limits.ts";
import { mlsCommitRequestBytesMax } from "../limits.ts";
import type { EncryptedRooms } from "../rooms/encrypted-rooms.ts";
import type { ClientApiScope, RouteContext } from "./client-api.ts";
import { base64urlBytes, clientIdField, parseBody, roomIdField } from "./json-fields.ts";

/** One MLS object of an entry (1 MiB: a large group's tree); the control record bounds their sum. */
export const mlsObjectField = base64urlBytes(roomLimits.mlsObjectBytesMax);

const roomParams = z.strictObject({ roomId: roomIdField });
const roomIdBody = z.strictObject({ clientId: clientIdField });
const commitBody = z.strictObject({
  clientId: clientIdField.optional(),
  action: z.unknown(),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  commit: mlsObjectField,
  groupInfo: mlsObjectField,
  ratchetTree: mlsObjectField,
  welcome: mlsObjectField.optional(),
});
/** Commits per page; a page also stops at `commitsPageBytesTarget` of commits (encrypted-rooms.ts). */
const commitsPageMax = 64;
const commitsQuery = z.strictObject({
  from: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  limit: z.coerce.number().int().min(1).max(commitsPageMax).default(16),
});
const groupInfoQuery = z.strictObject({
  via: z
    .string()
    .max(joinViaServersMax * 256)
    .transform((text) => text.split(",").filter((server) => server.length > 0))
    .optional(),
});

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

export function registerEncryptedRoomRoutes(
  scope: ClientApiScope,
  context: RouteContext,
  encrypted: EncryptedRooms,
): void {
  scope.post("/rooms/room-id", async (request) => {
    const session = await context.authenticate(request);
    const { clientId } = parseBody(roomIdBody, request.body, "room id request");
    const { roomId, groupId } = encrypted.roomIdFor(session, clientId);
    return { roomId, groupId: base64url(groupId) };
  });

  // A commit carries the new epoch's ratchet tree, which outgrows the client API's usual body bound.
  scope.post(
    "/rooms/:roomId/mls/commits",
    { bodyLimit: mlsCommitRequestBytesMax },
    async (request) => {
      const session = await context.authenticate(request);
      const { roomId } = parseBody(roomParams, request.params, "path");
      const body = parseBody(commitBody, request.body, "commit");
      return context.rememberOutcome(session.deviceId, roomId, body.clientId, () =>
        encrypted.commit(session, roomId as RoomId, body),
      );
    },
  );

  scope.get("/rooms/:roomId/mls/commits", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const query = parseBody(commitsQuery, request.query, "query");
    const page = await encrypted.commits(session.userId, roomId as RoomId, query.from, query.limit);
    return {
      commits: page.commits.map((applied) => ({
        epoch: applied.epoch,
        controlIndex: applied.controlIndex,
        commit: applied.entry.mls?.commit == null ? null : base64url(applied.entry.mls.commit),
        action: applied.entry.action,
        actor: applied.entry.actor,
      })),
      more: page.more,
    };
  });

  scope.get("/rooms/:roomId/mls/group-info", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const query = parseBody(groupInfoQuery, request.query, "query");
    const group = await encrypted.groupInfo(session.userId, roomId as RoomId, query.via ?? []);
    return {
      epoch: group.epoch,
      controlIndex: group.controlIndex,
      groupInfo: base64url(group.groupInfo),
      ratchetTree: base64url(group.ratchetTree),
    };
  });
}
