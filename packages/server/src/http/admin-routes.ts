// The operator's admin API under /_parley/admin/v1/ (docs/protocol.md
// §10.11): invite tokens, accounts, rooms and the server block list. Every
// request carries the admin token from the data directory as a bearer token;
// every change is written to the log as an audit line (`audit` field) that
// names what changed and from which address, never a token.

import { makeUserId, ParleyError, parseServerName, type RoomId } from "@parley/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AdminCredential } from "../administration/admin-token.ts";
import type { ServerBlockList } from "../administration/server-block-list.ts";
import type { RoomFederationStatus } from "../federation/room-status.ts";
import {
  adminRequestsPerSecond,
  clientRequestBytesMax,
  inviteTokenLifetimeMsMax,
  inviteTokenUsesMax,
  membersPageSizeDefault,
  pageSizeMax,
  serverBlockReasonBytesMax,
} from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { HomeserverMetrics } from "../observability/metrics.ts";
import type { Storage } from "../storage/storage.ts";
import type { Accounts } from "./accounts.ts";
import type { ProcessApp, ClientApiScope as Scope } from "./client-api.ts";
import { base64urlBytes, parseBody, roomIdField, toBase64url } from "./json-fields.ts";
import { RateLimiter } from "./rate-limits.ts";
import { inviteTokenHash, newToken } from "./tokens.ts";
import { errorReply, retryAfterSeconds } from "./wire-errors.ts";

export const adminApiPrefix = "/_parley/admin/v1";

export interface AdminApiDependencies {
  readonly app: ProcessApp;
  readonly storage: Storage;
  readonly accounts: Accounts;
  readonly blockList: ServerBlockList;
  readonly credential: AdminCredential;
  readonly logger: Logger;
  readonly metrics: HomeserverMetrics;
  readonly nowMs: () => number;
  readonly serverName: () => string;
  /** One room's federation as this server sees it; undefined when it takes no part. */
  readonly roomFederation: (roomId: RoomId) => RoomFederationStatus | undefined;
}

const limit = z.coerce.number().int().min(1).max(pageSizeMax).default(membersPageSizeDefault);
const pageQuery = z.strictObject({ after: z.string().min(1).max(512).optional(), limit });
const createInviteBody = z.strictObject({
  uses: z.number().int().min(1).max(inviteTokenUsesMax).default(1),
  expiresInMs: z.number().int().min(1).max(inviteTokenLifetimeMsMax).nullable().default(null),
});
const tokenIdParams = z.strictObject({ tokenId: base64urlBytes(32) });
const userNameParams = z.strictObject({ userName: z.string().min(1).max(64) });
const serverField = z
  .string()
  .max(255)
  .transform((text, context) => {
    try {
      return parseServerName(text);
    } catch {
      context.addIssue({ code: "custom", message: "not a server name" });
      return z.NEVER;
    }
  });
const blockBody = z.strictObject({
  server: serverField,
  reason: z
    .string()
    .refine(
      (text) => Buffer.byteLength(text) <= serverBlockReasonBytesMax,
      `at most ${serverBlockReasonBytesMax} bytes`,
    )
    .default(""),
});
const serverParams = z.strictObject({ server: serverField });
const roomParams = z.strictObject({ roomId: roomIdField });

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header === undefined ? undefined : /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header)?.[1];
}

export async function registerAdminApi(dependencies: AdminApiDependencies): Promise<void> {
  const { app, logger, metrics, nowMs, credential } = dependencies;
  const addresses = new RateLimiter({
    perSecond: adminRequestsPerSecond,
    burst: adminRequestsPerSecond * 2,
  });
  await app.register(
    async (scope) => {
      scope.addHook("onRoute", (route) => {
        route.bodyLimit ??= clientRequestBytesMax;
      });
      scope.addHook("onRequest", async (request) => {
        addresses.take(request.ip, nowMs());
        const token = bearerToken(request);
        if (token === undefined || !credential.matches(token)) {
          logger.warn(
            { audit: "admin_unauthorized", address: request.ip, route: request.url.split("?")[0] },
            "admin: request without the admin token",
          );
          throw new ParleyError(
            "unauthorized",
            `send Authorization: Bearer <the token in ${credential.path.split(/[/\\]/).pop()}>`,
          );
        }
      });
      scope.setErrorHandler(async (error: unknown, request, reply: FastifyReply) => {
        const answer = errorReply(error);
        metrics.errors.inc({ code: answer.body.code });
        if (answer.isServerFault) {
          request.log.error(
            { err: error, route: request.routeOptions.url },
            "admin request failed",
          );
        }
        if (answer.body.retryAfterMs !== undefined) {
          reply.header("retry-after", retryAfterSeconds(answer.body.retryAfterMs));
        }
        return reply.code(answer.status).send(answer.body);
      });
      scope.setNotFoundHandler(async (_request, reply) => {
        metrics.errors.inc({ code: "not_found" });
        return reply.code(404).send({ code: "not_found", message: "no such endpoint" });
      });
      registerInviteRoutes(scope, dependencies);
      registerUserAndRoomRoutes(scope, dependencies);
      registerBlockRoutes(scope, dependencies);
    },
    { prefix: adminApiPrefix },
  );
}

function audit(
  dependencies: AdminApiDependencies,
  request: FastifyRequest,
  fields: Record<string, unknown>,
  message: string,
): void {
  dependencies.logger.info({ ...fields, address: request.ip }, `admin: ${message}`);
}

function inviteJson(token: {
  tokenHash: Uint8Array;
  usesLeft: number;
  expiresAtMs: number | null;
  createdAtMs: number;
}) {
  return {
    tokenId: toBase64url(token.tokenHash),
    usesLeft: token.usesLeft,
    expiresAtMs: token.expiresAtMs,
    createdAtMs: token.createdAtMs,
  };
}

function registerInviteRoutes(scope: Scope, dependencies: AdminApiDependencies): void {
  const { storage, nowMs } = dependencies;

  scope.post("/invites", async (request) => {
    const body = parseBody(createInviteBody, request.body ?? {}, "invite");
    const createdAtMs = nowMs();
    const token = newToken();
    const stored = {
      tokenHash: inviteTokenHash(token),
      usesLeft: body.uses,
      expiresAtMs: body.expiresInMs === null ? null : createdAtMs + body.expiresInMs,
      createdAtMs,
    };
    // 256 random bits do not collide; a false here would be a broken generator.
    if (!(await storage.accounts.createInviteToken(stored))) {
      throw new Error("a fresh invite token collided with a stored one");
    }
    const json = inviteJson(stored);
    audit(
      dependencies,
      request,
      {
        audit: "invite_created",
        tokenId: json.tokenId,
        uses: json.usesLeft,
        expiresAtMs: json.expiresAtMs,
      },
      "invite token created",
    );
    return { token, ...json };
  });

  scope.get("/invites", async (request) => {
    const query = parseBody(pageQuery, request.query, "query");
    const after =
      query.after === undefined ? undefined : parseBody(base64urlBytes(32), query.after, "after");
    const page = await storage.administration.listInviteTokens({
      limit: query.limit,
      ...(after === undefined ? {} : { afterTokenHash: after }),
    });
    const atMs = nowMs();
    const invites = page.items.map((token) => ({
      ...inviteJson(token),
      usable: token.usesLeft > 0 && (token.expiresAtMs === null || token.expiresAtMs > atMs),
    }));
    return { invites, more: page.more, next: invites.at(-1)?.tokenId ?? null };
  });

  scope.delete("/invites/:tokenId", async (request) => {
    const { tokenId } = parseBody(tokenIdParams, request.params, "path");
    if (!(await storage.administration.deleteInviteToken(tokenId))) {
      throw new ParleyError("not_found", "no such invite token");
    }
    audit(
      dependencies,
      request,
      { audit: "invite_revoked", tokenId: toBase64url(tokenId) },
      "invite token revoked",
    );
    return { revoked: true };
  });
}

function registerUserAndRoomRoutes(scope: Scope, dependencies: AdminApiDependencies): void {
  const { storage, accounts } = dependencies;
  const userIdOf = (localName: string) =>
    makeUserId(localName, parseServerName(dependencies.serverName()));

  scope.get("/users", async (request) => {
    const query = parseBody(pageQuery, request.query, "query");
    const page = await storage.administration.listAccounts({
      limit: query.limit,
      ...(query.after === undefined ? {} : { afterLocalName: query.after }),
    });
    return {
      users: page.items.map((account) => ({
        userId: userIdOf(account.localName),
        userName: account.localName,
        createdAtMs: account.createdAtMs,
        deactivatedAtMs: account.deactivatedAtMs,
        liveDevices: account.liveDevices,
      })),
      more: page.more,
      next: page.items.at(-1)?.localName ?? null,
    };
  });

  scope.post("/users/:userName/deactivate", async (request) => {
    const { userName } = parseBody(userNameParams, request.params, "path");
    const outcome = await accounts.deactivate(userName);
    if (outcome === null) throw new ParleyError("not_found", `no user ${userName} here`);
    if (!outcome.alreadyDeactivated) {
      audit(
        dependencies,
        request,
        { audit: "user_deactivated", userName, devicesRevoked: outcome.devicesRevoked },
        "user deactivated",
      );
    }
    return { userId: userIdOf(userName), ...outcome };
  });

  scope.get("/rooms", async (request) => {
    const query = parseBody(pageQuery, request.query, "query");
    const page = await storage.administration.listRooms({
      limit: query.limit,
      ...(query.after === undefined ? {} : { afterRoomId: query.after }),
    });
    return { rooms: page.items, more: page.more, next: page.items.at(-1)?.roomId ?? null };
  });

  scope.get("/rooms/:roomId/federation", async (request) => {
    const { roomId } = parseBody(roomParams, request.params, "path");
    const status = dependencies.roomFederation(roomId);
    if (status === undefined)
      throw new ParleyError("not_found", "this server takes no part in the room");
    return status;
  });
}

function registerBlockRoutes(scope: Scope, dependencies: AdminApiDependencies): void {
  const { storage, blockList, nowMs } = dependencies;

  scope.post("/blocks", async (request) => {
    const body = parseBody(blockBody, request.body, "block");
    if (body.server === dependencies.serverName()) {
      throw new ParleyError("conflict", "a homeserver cannot block itself");
    }
    const outcome = await blockList.block({
      serverName: body.server,
      reason: body.reason,
      blockedAtMs: nowMs(),
    });
    if (outcome.kind === "blocked") {
      audit(
        dependencies,
        request,
        { audit: "server_blocked", server: body.server, reason: body.reason },
        "server blocked",
      );
    }
    return {
      server: outcome.block.serverName,
      reason: outcome.block.reason,
      blockedAtMs: outcome.block.blockedAtMs,
      alreadyBlocked: outcome.kind === "already-blocked",
    };
  });

  scope.delete("/blocks/:server", async (request) => {
    const { server } = parseBody(serverParams, request.params, "path");
    if (!(await blockList.unblock(server))) {
      throw new ParleyError("not_found", `${server} is not blocked`);
    }
    audit(dependencies, request, { audit: "server_unblocked", server }, "server unblocked");
    return { unblocked: true };
  });

  scope.get("/blocks", async (request) => {
    const query = parseBody(pageQuery, request.query, "query");
    const page = await storage.administration.listServerBlocks({
      limit: query.limit,
      ...(query.after === undefined ? {} : { afterServerName: query.after }),
    });
    return {
      blocks: page.items.map((block) => ({
        server: block.serverName,
        reason: block.reason,
        blockedAtMs: block.blockedAtMs,
      })),
      more: page.more,
      next: page.items.at(-1)?.serverName ?? null,
    };
  });
}
