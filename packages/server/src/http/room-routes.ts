// Routes for rooms, room state changes, messages and history
// (docs/protocol.md, Client API).

import { ParleyError, type RoomId, type UserId } from "@parley/protocol";
import { joinRules, type RoomState, roomKinds } from "@parley/room";
import { z } from "zod";
import { joinViaServersMax } from "../federation/limits.ts";
import {
  historyCursorLengthMax,
  historyPageSizeDefault,
  membersPageSizeDefault,
  pageSizeMax,
} from "../limits.ts";
import { eventJson } from "../rooms/event-json.ts";
import type { StoredEvent } from "../storage/records.ts";
import type { ClientApiScope, RouteContext } from "./client-api.ts";
import { mlsObjectField } from "./encrypted-room-routes.ts";
import { base64urlBytes, clientIdField, parseBody, roomIdField } from "./json-fields.ts";

/** An envelope holds a 64 KiB body plus at most 1 KiB of fields and signature. */
const envelopeField = base64urlBytes(65 * 1024);

const createBody = z.strictObject({
  clientId: clientIdField,
  name: z.string().max(1024),
  topic: z.string().max(16 * 1024),
  contentType: z.string().min(1).max(1024),
  joinRule: z.enum(joinRules),
  kind: z.enum(roomKinds).default("plain"),
  mls: z.strictObject({ groupInfo: mlsObjectField, ratchetTree: mlsObjectField }).optional(),
});
const roomParams = z.strictObject({ roomId: roomIdField });
const actionBody = z.strictObject({
  clientId: clientIdField.optional(),
  action: z.unknown(),
  /** Servers taking part in a room this server does not know yet (a join of an open room). */
  via: z.array(z.string().min(1).max(255)).max(joinViaServersMax).optional(),
});
const messageBody = z.strictObject({ message: envelopeField });
const sequence = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const historyQuery = z.strictObject({
  from: sequence.optional(),
  direction: z.enum(["backward", "forward"]).default("backward"),
  limit: z.coerce.number().int().min(1).max(pageSizeMax).default(historyPageSizeDefault),
});
const orderedHistoryQuery = z.strictObject({
  from: z.string().min(1).max(historyCursorLengthMax).optional(),
  direction: z.enum(["backward", "forward"]).default("backward"),
  limit: z.coerce.number().int().min(1).max(pageSizeMax).default(historyPageSizeDefault),
});
const membersQuery = z.strictObject({
  after: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(pageSizeMax).default(membersPageSizeDefault),
});

/** The room package's words for memberships, used everywhere in the API. */
const roomMembershipOf = {
  join: "joined",
  invite: "invited",
  knock: "knocking",
  leave: "left",
  ban: "banned",
} as const;

function stateJson(state: RoomState, viewer: UserId) {
  const mine = state.members.get(viewer);
  let joined = 0;
  for (const record of state.members.values()) if (record.membership === "joined") joined += 1;
  return {
    roomId: state.roomId,
    kind: state.kind,
    contentType: state.contentType,
    creator: state.creator,
    createdAtMs: state.createdAtMs,
    name: state.name,
    topic: state.topic,
    joinRule: state.joinRule,
    permissions: state.permissions,
    serverAcl: state.serverAcl,
    sponsors: state.sponsors,
    appliedIndex: state.appliedIndex,
    joinedMembers: joined,
    membership: mine?.membership ?? "none",
    role: mine?.role ?? "member",
    ...(state.mls === undefined
      ? {}
      : { mls: { epoch: state.mls.epoch, controlIndex: state.mls.sinceIndex } }),
  };
}

export function registerRoomRoutes(scope: ClientApiScope, context: RouteContext): void {
  const { rooms, messages, storage } = context;

  scope.post("/rooms", async (request) => {
    const session = await context.authenticate(request);
    const { kind, mls, ...body } = parseBody(createBody, request.body, "room");
    if ((kind === "encrypted") !== (mls !== undefined)) {
      throw new ParleyError(
        "bad_structure",
        "an encrypted room, and only one, comes with its mls group",
      );
    }
    if (mls === undefined) return rooms.create(session, body);
    const checkGroup = (roomId: RoomId) =>
      context.encryptedRooms.checkCreatedGroup(session, roomId, mls);
    const created = await rooms.create(session, { ...body, encrypted: { ...mls, checkGroup } });
    return { ...created, epoch: 0 };
  });

  scope.get("/rooms", async (request) => {
    const session = await context.authenticate(request);
    const memberships = await storage.rooms.roomsOfUser(session.userId, [
      "join",
      "invite",
      "knock",
    ]);
    return {
      rooms: memberships.map((member) => ({
        roomId: member.roomId,
        membership: roomMembershipOf[member.membership],
        sinceIndex: member.sinceIndex,
      })),
    };
  });

  scope.get("/rooms/:roomId", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    return stateJson(await rooms.stateFor(roomId, session.userId), session.userId);
  });

  scope.get("/rooms/:roomId/members", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const query = parseBody(membersQuery, request.query, "query");
    const state = await rooms.readableState(roomId, session.userId);
    const page = await storage.rooms.membersOfRoom({
      roomId,
      memberships: ["join", "invite", "knock", "ban"],
      limit: query.limit,
      ...(query.after === undefined ? {} : { afterUserId: query.after }),
    });
    const last = page.items.at(-1);
    return {
      // The applied state is authoritative; the index only finds the page.
      members: page.items.flatMap((member) => {
        const record = state.members.get(member.userId as UserId);
        if (record === undefined) return [];
        return [
          {
            userId: member.userId,
            membership: record.membership,
            role: record.role,
            sinceIndex: record.sinceIndex,
          },
        ];
      }),
      more: page.more,
      next: last?.userId ?? null,
    };
  });

  scope.post("/rooms/:roomId/actions", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const body = parseBody(actionBody, request.body, "action");
    return context.rememberOutcome(session.deviceId, roomId, body.clientId, () =>
      rooms.act(session, roomId, body.action, body.via ?? []),
    );
  });

  scope.post("/rooms/:roomId/messages", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const body = parseBody(messageBody, request.body, "message");
    return messages.accept(session, roomId as RoomId, body.message);
  });

  scope.get("/rooms/:roomId/messages", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const query = parseBody(historyQuery, request.query, "query");
    return historyAnswer(await messages.history(session.userId, roomId, query), query.direction);
  });
  scope.get("/rooms/:roomId/history", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const query = parseBody(orderedHistoryQuery, request.query, "query");
    const page = await messages.orderedHistory(session.userId, roomId, query);
    return historyAnswer(page, query.direction);
  });
}

/** The JSON of a history page (§10.4): both history routes answer alike, only their cursors differ. */
function historyAnswer<Cursor>(
  page: { readonly events: readonly StoredEvent[]; readonly more: boolean; readonly next: Cursor },
  direction: "backward" | "forward",
) {
  return { events: page.events.map(eventJson), direction, more: page.more, next: page.next };
}
