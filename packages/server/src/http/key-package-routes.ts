// Routes for MLS KeyPackages (docs/protocol.md §10.12): a device publishes and
// counts its own; any authenticated device claims one per device of users of
// this server or, over federation, of other servers. The same service answers
// other servers' claims (federation/key-package-exchange.ts).

import { isUserId, type ServerName, serverOfUser, type UserId } from "@parley/protocol";
import { z } from "zod";
import type { FederationRuntime } from "../federation/federation-runtime.ts";
import { claimAcrossServers } from "../key-packages/claims-across-servers.ts";
import { KeyPackageService } from "../key-packages/key-package-service.ts";
import { keyPackageBytesMax, keyPackageClaimUsersMax, keyPackageUploadMax } from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { ClientApiScope, RouteContext } from "./client-api.ts";
import { base64urlBytes, parseBody, toBase64url } from "./json-fields.ts";
import { createVerifyingProvider } from "./verifying-provider.ts";

const keyPackageField = base64urlBytes(keyPackageBytesMax);
const publishBody = z.strictObject({
  oneTime: z.array(keyPackageField).max(keyPackageUploadMax),
  lastResort: keyPackageField.optional(),
});
const userIdField = z
  .string()
  .max(512)
  .refine(isUserId, "not a user id")
  .transform((text) => text as UserId);
const claimBody = z.strictObject({
  users: z.array(userIdField).min(1).max(keyPackageClaimUsersMax),
});

export interface KeyPackageRouteOptions {
  readonly nowMs: () => number;
  readonly federation: FederationRuntime;
  /** This server's name (known once the server listens). */
  readonly serverName: () => ServerName;
  /** Servers the operator blocked: they neither claim here nor are claimed from. */
  readonly isBlocked: (server: ServerName) => boolean;
  readonly logger: Logger;
}

export function registerKeyPackageRoutes(
  scope: ClientApiScope,
  context: RouteContext,
  options: KeyPackageRouteOptions,
): void {
  const service = new KeyPackageService({
    storage: context.storage,
    signatureProvider: createVerifyingProvider(),
    nowMs: options.nowMs,
  });
  const { federation, isBlocked } = options;
  federation.keyPackages.serve({
    claimer: service,
    get localServer() {
      return options.serverName();
    },
    isBlocked,
  });

  scope.post("/key-packages", async (request) => {
    const session = await context.authenticate(request);
    const body = parseBody(publishBody, request.body, "key packages");
    return service.publish(session, { oneTime: body.oneTime, lastResort: body.lastResort ?? null });
  });

  scope.get("/key-packages", async (request) => {
    const session = await context.authenticate(request);
    return service.count(session.deviceId);
  });

  scope.post("/key-packages/claim", async (request) => {
    const session = await context.authenticate(request);
    const body = parseBody(claimBody, request.body, "key package claim");
    const result = await claimAcrossServers(
      {
        service,
        claimRemote: (peer, users) => federation.keyPackages.claim(peer, users),
        localServer: serverOfUser(session.userId),
        isBlocked,
        logger: options.logger,
      },
      body.users,
    );
    return {
      packages: result.packages.map((claimed) => ({
        userId: claimed.userId,
        deviceId: claimed.deviceId,
        keyPackage: toBase64url(claimed.keyPackage),
        lastResort: claimed.lastResort,
      })),
      failures: result.failures,
    };
  });
}
