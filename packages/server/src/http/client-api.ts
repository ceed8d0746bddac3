// The client API: HTTP JSON routes under /_parley/client/v1/ and the
// WebSocket stream at /_parley/client/v1/stream, wired to the account, room
// and message services. `createClientApi` registers everything on the
// process server before it listens; `setServerName` completes the identity
// once the bound port (and so the default name) is known.

import { createHmac } from "node:crypto";
import { CommitChecker } from "@parley/federation";
import { createMlsCrypto } from "@parley/mls";
import { nodePrimitives } from "@parley/mls/node";
import { makeUserId, ParleyError, type SignatureProvider, type UserId } from "@parley/protocol";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import { Histogram } from "prom-client";
import type { AdminCredential } from "../administration/admin-token.ts";
import type { ServerBlockList } from "../administration/server-block-list.ts";
import type { HomeserverConfig } from "../config/load.ts";
import type { DeviceDirectory } from "../federation/device-directory.ts";
import { localDeviceListBytes } from "../federation/discovery/device-list-route.ts";
import { FederationRuntime } from "../federation/federation-runtime.ts";
import { projectionRepairWindowMs } from "../federation/limits.ts";
import { RoomProjection } from "../federation/projection/room-projection.ts";
import { roomFederationStatus } from "../federation/room-status.ts";
import { routedMessageCheck } from "../federation/routed-verification.ts";
import { submittedMessageCheck } from "../federation/submitted-messages.ts";
import {
  actionOutcomesRememberedMax,
  clientRequestBytesMax,
  sqliteCommitsInFlightMax,
} from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { HomeserverMetrics } from "../observability/metrics.ts";
import { EncryptedRooms, framingRefusal } from "../rooms/encrypted-rooms.ts";
import { GroupCommitter } from "../rooms/group-commit.ts";
import { Messages } from "../rooms/messages.ts";
import { DeviceNotices } from "../rooms/notices.ts";
import { RoomService } from "../rooms/room-service.ts";
import type { ServerSigningKey } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { PreverifiedSignatures, preverifyRoomMessage } from "../verification/preverified.ts";
import { SignaturePool } from "../verification/signature-pool.ts";
import { registerAccountRoutes } from "./account-routes.ts";
import { Accounts, type AuthenticatedSession } from "./accounts.ts";
import { registerAdminApi } from "./admin-routes.ts";
import { registerCertificateRoutes } from "./certificate-routes.ts";
import { registerEncryptedRoomRoutes } from "./encrypted-room-routes.ts";
import { base64urlBytes, parseBody, roomIdField } from "./json-fields.ts";
import { registerKeyPackageRoutes } from "./key-package-routes.ts";
import { createPasswordHasher } from "./passwords.ts";
import { RateLimiter } from "./rate-limits.ts";
import { registerRoomRoutes } from "./room-routes.ts";
import { createServerIdentity, type ServerIdentity } from "./server-identity.ts";
import { SessionChallenges } from "./session-challenges.ts";
import { DeliveryHub } from "./stream/delivery-hub.ts";
import { StreamServer } from "./stream/stream-server.ts";
import { createVerifyingProvider } from "./verifying-provider.ts";
import { errorReply, retryAfterSeconds } from "./wire-errors.ts";

export const clientApiPrefix = "/_parley/client/v1";

/** A room message envelope in a send frame, as in POST /rooms/{roomId}/messages. */
const envelopeField = base64urlBytes(65 * 1024);

/** The encapsulated Fastify scope the routes are registered on. */
export type ClientApiScope = FastifyInstance;

/** The process server; its logger is the homeserver's pino logger. */
export type ProcessApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  FastifyTypeProviderDefault
>;

/** What route modules get: the services and the per-request checks. */
export interface RouteContext {
  readonly accounts: Accounts;
  readonly rooms: RoomService;
  readonly messages: Messages;
  readonly encryptedRooms: EncryptedRooms;
  readonly storage: Storage;
  /** The bearer token's session, after the device's rate limit; `unauthorized` otherwise. */
  authenticate(request: FastifyRequest): Promise<AuthenticatedSession>;
  /** The per-address limit on password and challenge attempts. */
  admitAuthentication(request: FastifyRequest): void;
  /** Runs `work` once per (device, room, client id); a retry gets the first answer. */
  rememberOutcome<Result>(
    deviceId: string,
    roomId: string,
    clientId: string | undefined,
    work: () => Promise<Result>,
  ): Promise<Result>;
}

export interface ClientApiDependencies {
  readonly app: ProcessApp;
  readonly storage: Storage;
  readonly config: HomeserverConfig;
  readonly logger: Logger;
  readonly metrics: HomeserverMetrics;
  readonly nowMs: () => number;
  /** The server's current signing key and every key it ever had. */
  readonly currentKey: ServerSigningKey;
  readonly allKeys: readonly ServerSigningKey[];
  /** The operator's admin API (§10.11); without it the API is not served. */
  readonly administration?: {
    readonly credential: AdminCredential;
    readonly blockList: ServerBlockList;
  };
  /** Rooms run through it; without one, a runtime with in-memory storage and no links. */
  readonly federation?: FederationRuntime;
  /** Whose devices are whose across servers (§12.14); without it, not checked. */
  readonly devices?: DeviceDirectory;
}

export interface ClientApi {
  setServerName(name: string): void;
  /** Who this server is, once its name is set (null before). */
  identity(): ServerIdentity | null;
  /** Starts the rooms' federation core under the server's name (after `setServerName`). */
  startFederation(): Promise<void>;
  readonly federation: FederationRuntime;
  /** Closes every stream socket (1001); call before the HTTP server closes. */
  closeSockets(): void;
  /** Drains federation, commits what is queued and writes pending acknowledgements; call before storage closes. */
  close(): Promise<void>;
  readonly hub: DeliveryHub;
  readonly stream: StreamServer;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header);
  if (match?.[1] === undefined) {
    throw new ParleyError("unauthorized", "send Authorization: Bearer <access token>");
  }
  return match[1];
}

export async function createClientApi(dependencies: ClientApiDependencies): Promise<ClientApi> {
  const { storage, config, logger, metrics, nowMs } = dependencies;
  // Message signatures are verified on worker threads first (preverify below);
  // the provider the message path calls then finds them verified.
  const signaturePool = new SignaturePool();
  const preverified = new PreverifiedSignatures();
  const provider: SignatureProvider = createVerifyingProvider(preverified);
  let identity: ServerIdentity | undefined;
  const currentIdentity = (): ServerIdentity => {
    if (identity === undefined)
      throw new Error("the client API is used before its server name is set");
    return identity;
  };
  const hub = new DeliveryHub({
    storage,
    serverName: () => currentIdentity().name,
    nowMs,
    retention: config.inboxRetention,
    logger,
    metrics,
  });
  await hub.start();
  const commitBatches = new Histogram({
    name: "parley_commit_batch_events",
    help: "Events stored per group commit (one transaction, one fsync).",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [metrics.registry],
  });
  const committer = new GroupCommitter(storage.events, {
    published: (events) => {
      metrics.messagesIn.inc({ source: "client" }, events.length);
      hub.publish(events);
    },
    committed: (batchSize) => commitBatches.observe(batchSize),
    // SQLite's one connection runs transactions in the order they start, so
    // rounds may overlap there (one syncing, the next running).
    commitsInFlightMax: storage.dialect === "sqlite" ? sqliteCommitsInFlightMax : 1,
  });
  const limits = config.rateLimits;
  const addresses = new RateLimiter({
    perSecond: limits.addressRequestsPerSecond,
    burst: limits.addressRequestsPerSecond * 2,
  });
  const devices = new RateLimiter({
    perSecond: limits.deviceRequestsPerSecond,
    burst: limits.deviceRequestsPerSecond * 2,
  });
  const attempts = new RateLimiter({
    perSecond: limits.authenticationAttemptsPerMinute / 60,
    burst: limits.authenticationAttemptsPerMinute,
  });
  // Pointers filled below; the account service needs the stream to end sockets.
  let stream: StreamServer | undefined;
  const accounts = new Accounts({
    storage,
    identity: currentIdentity,
    provider,
    passwords: await createPasswordHasher(),
    challenges: new SessionChallenges(),
    registrationMode: config.registration.mode,
    nowMs,
    credentials: {
      deviceRevoked: (deviceId, localName) => {
        stream?.closeDevice(deviceId, "device_revoked", "device revoked");
        const user = makeUserId(localName, currentIdentity().name);
        dependencies.devices?.forget(user);
        pushDeviceList(user);
        notices
          .deviceRevoked(makeUserId(localName, currentIdentity().name), deviceId)
          .catch((error: unknown) =>
            logger.warn({ err: error }, "device-revoked notice not queued"),
          );
      },
      sessionEnded: (tokenHash) => stream?.closeSession(tokenHash),
    },
  });
  /** Tells the servers of this server's rooms that `user` lost a device (§12.14.2). */
  function pushDeviceList(user: UserId): void {
    localDeviceListBytes({ storage, provider }, currentIdentity(), user).then(
      (list) => federation.pushDeviceList({ type: "device-list", user, list }),
      (error: unknown) => logger.warn({ err: error }, "device list not pushed"),
    );
  }
  const notices = new DeviceNotices({
    storage,
    serverName: () => currentIdentity().name,
    deviceQueueItems: config.deviceQueueItems,
    nowMs,
    listener: hub,
  });
  const federation = dependencies.federation ?? new FederationRuntime({ logger, nowMs });
  const projection = new RoomProjection({
    storage,
    events: committer,
    notices,
    readers: hub,
    provider,
    serverName: () => currentIdentity().name,
    stateOf: (room) => federation.driver.view((host) => host.session(room)?.replica.state),
    refused: (room, stored, code) => hub.delivery.refused(room, stored, code),
    logger,
    ...(dependencies.devices === undefined ? {} : { devices: dependencies.devices }),
  });
  const rooms = new RoomService({
    storage,
    nowMs,
    roomIdKey: createHmac("sha256", dependencies.currentKey.secretSeed)
      .update("parley room id key")
      .digest(),
    federation,
  });
  const messages = new Messages({ storage, rooms, federation, projection, provider });
  const mlsCrypto = await createMlsCrypto({
    signatureProvider: createVerifyingProvider(),
    primitives: nodePrimitives,
  });
  const encryptedRooms = new EncryptedRooms({
    rooms,
    federation,
    storage,
    checker: new CommitChecker(mlsCrypto),
    nowMs,
  });
  const outcomes = new Map<string, Promise<unknown>>();

  const context: RouteContext = {
    accounts,
    rooms,
    messages,
    encryptedRooms,
    storage,
    async authenticate(request) {
      const session = await accounts.authenticate(bearerToken(request));
      devices.take(session.deviceId, nowMs());
      return session;
    },
    admitAuthentication(request) {
      attempts.take(request.ip, nowMs());
    },
    rememberOutcome(deviceId, roomId, clientId, work) {
      if (clientId === undefined) return work();
      const key = `${deviceId}\0${roomId}\0${clientId}`;
      const known = outcomes.get(key);
      if (known !== undefined) return known as ReturnType<typeof work>;
      const running = work();
      if (outcomes.size >= actionOutcomesRememberedMax) {
        const oldest = outcomes.keys().next();
        if (oldest.done !== true) outcomes.delete(oldest.value);
      }
      outcomes.set(key, running);
      // Only answers are remembered; a failed attempt may be retried for real.
      running.catch(() => outcomes.delete(key));
      return running;
    },
  };

  await dependencies.app.register(
    async (scope) => {
      scope.addHook("onRoute", (route) => {
        route.bodyLimit ??= clientRequestBytesMax;
      });
      scope.addHook("onRequest", async (request) => {
        addresses.take(request.ip, nowMs());
      });
      scope.addHook("preHandler", async (request) => {
        if (request.method !== "POST") return;
        if (request.routeOptions.url?.endsWith("/rooms/:roomId/messages") !== true) return;
        const message = (request.body as { message?: unknown } | null)?.message;
        if (typeof message !== "string" || message.length > clientRequestBytesMax) return;
        // Only a live session's envelopes take pool capacity; the route answers the rest.
        const token = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(request.headers.authorization ?? "");
        if (token?.[1] === undefined) return;
        try {
          await accounts.authenticate(token[1]);
        } catch {
          return;
        }
        await preverifyRoomMessage(
          new Uint8Array(Buffer.from(message, "base64url")),
          signaturePool,
          preverified,
        );
      });
      scope.setErrorHandler(async (error: unknown, request, reply: FastifyReply) => {
        const answer = errorReply(error);
        metrics.errors.inc({ code: answer.body.code });
        const route = request.routeOptions.url ?? "unmatched";
        if (answer.isServerFault) request.log.error({ err: error, route }, "request failed");
        else request.log.debug({ code: answer.body.code, route }, "request refused");
        if (answer.body.retryAfterMs !== undefined) {
          reply.header("retry-after", retryAfterSeconds(answer.body.retryAfterMs));
        }
        return reply.code(answer.status).send(answer.body);
      });
      scope.setNotFoundHandler(async (_request, reply) => {
        metrics.errors.inc({ code: "not_found" });
        return reply.code(404).send({ code: "not_found", message: "no such endpoint" });
      });
      registerAccountRoutes(scope, context);
      registerRoomRoutes(scope, context);
      registerEncryptedRoomRoutes(scope, context, encryptedRooms);
      registerCertificateRoutes(scope, context, federation);
      registerKeyPackageRoutes(scope, context, {
        nowMs,
        federation,
        serverName: () => currentIdentity().name,
        isBlocked: (server) => federation.isBlocked(server),
        logger,
      });
    },
    { prefix: clientApiPrefix },
  );

  if (dependencies.administration !== undefined) {
    await registerAdminApi({
      app: dependencies.app,
      storage,
      accounts,
      blockList: dependencies.administration.blockList,
      credential: dependencies.administration.credential,
      logger,
      metrics,
      nowMs,
      serverName: () => currentIdentity().name,
      roomFederation: (roomId) =>
        federation.started
          ? federation.driver.view((host) => roomFederationStatus(host, roomId))
          : undefined,
    });
  }

  stream = new StreamServer({
    path: `${clientApiPrefix}/stream`,
    hub,
    accounts,
    logger,
    nowMs,
    admitAddress: (address) => addresses.take(address, nowMs()),
    async acceptMessage(connection, roomIdText, messageText) {
      devices.take(connection.deviceId, nowMs());
      const roomId = parseBody(roomIdField, roomIdText, "send roomId");
      const envelope = parseBody(envelopeField, messageText, "send message");
      await preverifyRoomMessage(envelope, signaturePool, preverified);
      const accepted = await messages.accept(connection, roomId, envelope);
      return { ...accepted };
    },
  });
  stream.listen(dependencies.app.server);
  const openStream = stream;

  return {
    hub,
    stream: openStream,
    identity() {
      return identity ?? null;
    },
    federation,
    setServerName(name) {
      identity = createServerIdentity(provider, {
        name,
        currentKey: dependencies.currentKey,
        allKeys: dependencies.allKeys,
      });
    },
    async startFederation() {
      federation.checkSubmittedMessages(
        submittedMessageCheck({
          provider,
          pool: signaturePool,
          preverified,
          verified: (body, message) => projection.noteVerified(body, message),
          framing: (room, message) =>
            framingRefusal(
              federation.driver.view((host) => host.session(room)?.replica.state),
              message.contentType,
              message.body,
            ),
          nowMs,
          ...(dependencies.devices === undefined ? {} : { devices: dependencies.devices }),
        }),
      );
      federation.checkRoutedMessages(
        routedMessageCheck(signaturePool, (body, message) =>
          projection.noteVerified(body, message),
        ),
      );
      const driver = await federation.start(currentIdentity().name, projection);
      federation.onDeviceList(
        (peer, frame) => void dependencies.devices?.offer(peer, frame.user, frame.list),
      );
      hub.delivery.connect(federation);
      driver.setCommitCheck((room, entry) => encryptedRooms.checkSubmitted(room, entry));
      const repaired = await projection.repairRecent(
        federation.roomMessages(),
        projectionRepairWindowMs,
      );
      if (repaired > 0) logger.warn({ repaired }, "messages projected again after a crash");
    },
    closeSockets() {
      openStream.close();
    },
    async close() {
      await signaturePool.close();
      await federation.close();
      await committer.close();
      await hub.close();
    },
  };
}
