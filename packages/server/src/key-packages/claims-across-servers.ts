// The client route's claim (docs/protocol.md §10.12) for users of any server:
// this server's users are claimed from its own storage, every other server's
// users from that server over the link (§12.2.2), all servers at once. What a
// peer hands out is checked here before the client sees it (§13.4).

import type { KeyPackageClaimResultFrame } from "@parley/federation";
import { isParleyError, type ServerName, serverOfUser, type UserId } from "@parley/protocol";
import type { Logger } from "../observability/logger.ts";
import type {
  ClaimedDevicePackage,
  ClaimFailure,
  ClaimResult,
  KeyPackageService,
} from "./key-package-service.ts";

export interface ClaimsAcrossServersContext {
  readonly service: Pick<KeyPackageService, "claimForUsers" | "isValidClaimed">;
  /** Claims from a peer; rejects with a coded error when the peer cannot answer. */
  readonly claimRemote: (
    peer: ServerName,
    users: readonly UserId[],
  ) => Promise<KeyPackageClaimResultFrame>;
  readonly localServer: ServerName;
  readonly isBlocked: (server: ServerName) => boolean;
  readonly logger: Logger;
}

/** One KeyPackage per live device of each user, wherever the user lives; packages in the order asked. */
export async function claimAcrossServers(
  context: ClaimsAcrossServersContext,
  users: readonly UserId[],
): Promise<ClaimResult> {
  const byServer = new Map<ServerName, UserId[]>();
  for (const user of new Set(users)) {
    const server = serverOfUser(user);
    const list = byServer.get(server) ?? [];
    list.push(user);
    byServer.set(server, list);
  }
  const results = await Promise.all(
    [...byServer].map(([server, serverUsers]) =>
      server === context.localServer
        ? context.service.claimForUsers(server, serverUsers)
        : claimFromPeer(context, server, serverUsers),
    ),
  );
  const packagesByUser = new Map<UserId, ClaimedDevicePackage[]>();
  const failures: ClaimFailure[] = [];
  for (const result of results) {
    for (const one of result.packages) {
      const list = packagesByUser.get(one.userId) ?? [];
      list.push(one);
      packagesByUser.set(one.userId, list);
    }
    failures.push(...result.failures);
  }
  const order = new Map([...new Set(users)].map((user, index) => [user, index]));
  failures.sort((a, b) => (order.get(a.userId) ?? 0) - (order.get(b.userId) ?? 0));
  return {
    packages: [...new Set(users)].flatMap((user) => packagesByUser.get(user) ?? []),
    failures,
  };
}

async function claimFromPeer(
  context: ClaimsAcrossServersContext,
  peer: ServerName,
  users: readonly UserId[],
): Promise<ClaimResult> {
  const failAll = (code: ClaimFailure["code"], message: string): ClaimResult => ({
    packages: [],
    failures: users.map((userId) => ({ userId, code, message })),
  });
  if (context.isBlocked(peer)) {
    return failAll("forbidden", `the homeserver ${peer} is blocked by this server`);
  }
  let answer: KeyPackageClaimResultFrame;
  try {
    answer = await context.claimRemote(peer, users);
  } catch (thrown) {
    if (!isParleyError(thrown) || thrown.category === "internal") throw thrown;
    return failAll("unavailable", thrown.message);
  }
  const packages: ClaimedDevicePackage[] = [];
  const usersWithInvalid = new Set<UserId>();
  for (const one of answer.packages) {
    if (serverOfUser(one.user) === peer && (await context.service.isValidClaimed(one))) {
      packages.push({
        userId: one.user,
        deviceId: one.device,
        keyPackage: one.keyPackage,
        lastResort: one.lastResort,
      });
    } else {
      usersWithInvalid.add(one.user);
    }
  }
  if (usersWithInvalid.size > 0) {
    context.logger.warn({ peer, users: usersWithInvalid.size }, "a peer sent invalid KeyPackages");
  }
  const failures: ClaimFailure[] = answer.failures.map((failure) => ({
    userId: failure.user,
    code: failure.code,
    message: `${peer}: ${failure.reason}`,
  }));
  const served = new Set([...packages.map((one) => one.userId), ...failures.map((f) => f.userId)]);
  for (const user of usersWithInvalid) {
    if (served.has(user)) continue;
    failures.push({
      userId: user,
      code: "unavailable",
      message: `${peer} sent no valid KeyPackage`,
    });
  }
  return { packages, failures };
}
