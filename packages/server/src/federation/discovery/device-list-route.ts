// A user's device list over HTTP (docs/protocol.md §12.14.1): served by the
// user's homeserver from its device table — the attested record of each live
// device and a revocation, signed now with the server's current key, of each
// revoked one — and fetched by other servers. Every entry is self-validating,
// so, like the key document, the route needs no authentication.

import {
  createDeviceRevocation,
  type DeviceId,
  deviceListBytesMax,
  encodeDeviceList,
  equalBytes,
  isLoopbackServerName,
  isParleyError,
  parseDeviceId,
  parseUserId,
  publicKeyOfDevice,
  type ServerName,
  type SignatureProvider,
  type UserId,
  userIdParts,
  type VerifiedDeviceList,
} from "@parley/protocol";
import type { ServerIdentity } from "../../http/server-identity.ts";
import type { ProcessServer } from "../../process/app.ts";
import type { Storage } from "../../storage/storage.ts";
import { fetchDocumentBytes } from "./document-fetch.ts";
import { type PeerAddresses, redirectedUrl } from "./peer-addresses.ts";
import { keyDocumentContentType } from "./well-known-route.ts";

/** Revocations one list carries: the newest (§12.14.1). */
const revocationsListedMax = 64;

/** How long one fetch of a list may take (§12.14.1). */
export const deviceListFetchTimeoutMs = 5000;

/** The path of `user`'s device list on its homeserver. */
export function deviceListPath(user: UserId): string {
  return `/_parley/federation/v1/users/${encodeURIComponent(user)}/devices`;
}

/** Fetches `user`'s list from `server` (at its mapped address, if any). */
export function fetchDeviceList(addresses: PeerAddresses) {
  return (server: ServerName, user: UserId): Promise<Uint8Array> => {
    const scheme = isLoopbackServerName(server) ? "http" : "https";
    const url = redirectedUrl(`${scheme}://${server}${deviceListPath(user)}`, addresses);
    return fetchDocumentBytes(url, deviceListBytesMax, deviceListFetchTimeoutMs);
  };
}

export interface DeviceListRouteDependencies {
  readonly storage: Storage;
  readonly provider: SignatureProvider;
  readonly nowMs: () => number;
  /** Null until the server's name is set. */
  readonly identity: () => ServerIdentity | null;
}

/** Registers `GET /_parley/federation/v1/users/:user/devices`. */
export function registerDeviceListRoute(
  app: ProcessServer,
  dependencies: DeviceListRouteDependencies,
): void {
  app.get<{ Params: { user: string } }>(
    "/_parley/federation/v1/users/:user/devices",
    async (request, reply) => {
      const identity = dependencies.identity();
      if (identity === null) {
        return reply
          .code(503)
          .send({ code: "unavailable", message: "the server's identity is not ready" });
      }
      const user = localUser(request.params.user, identity.name);
      const account =
        user === null ? null : await dependencies.storage.accounts.get(userIdParts(user).localPart);
      if (user === null || account === null) {
        return reply.code(404).send({ code: "not_found", message: "no such user here" });
      }
      const bytes = await localDeviceListBytes(dependencies, identity, user);
      return reply
        .header("cache-control", "no-cache")
        .type(keyDocumentContentType)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
}

/** The list of one of this server's users, as its device table says (no signature to check). */
export async function localDeviceList(storage: Storage, user: UserId): Promise<VerifiedDeviceList> {
  const devices = await storage.devices.listForAccount(userIdParts(user).localPart);
  const bound = new Set<DeviceId>();
  const revokedAtMs = new Map<DeviceId, number>();
  for (const device of devices) {
    const id = parseDeviceId(device.deviceId);
    if (device.revokedAtMs === null) bound.add(id);
    else revokedAtMs.set(id, device.revokedAtMs);
  }
  return { user, bound, revokedAtMs };
}

/** The list this server serves for its user `user` (§12.14.1). */
export async function localDeviceListBytes(
  dependencies: Pick<DeviceListRouteDependencies, "storage" | "provider">,
  identity: ServerIdentity,
  user: UserId,
): Promise<Uint8Array> {
  const { provider, storage } = dependencies;
  const devices = await storage.devices.listForAccount(userIdParts(user).localPart);
  const live = devices.filter((device) => device.revokedAtMs === null);
  const revoked = devices
    .filter((device) => device.revokedAtMs !== null)
    .sort((left, right) => (right.revokedAtMs ?? 0) - (left.revokedAtMs ?? 0))
    .slice(0, revocationsListedMax);
  // The signer must be valid at `revokedAtMs` (§5.8): a revocation from before
  // the current key took over is dated when it did.
  const signerFromMs =
    identity.keyDocument.keys.find((key) => equalBytes(key.publicKey, identity.keyPair.publicKey))
      ?.validFromMs ?? 0;
  return encodeDeviceList({
    user,
    records: live.map((device) => device.attestation),
    revocations: revoked.map((device) =>
      createDeviceRevocation(provider, identity.keyPair, {
        user,
        deviceKey: publicKeyOfDevice(parseDeviceId(device.deviceId)),
        revokedAtMs: Math.max(device.revokedAtMs ?? 0, signerFromMs),
      }),
    ),
  });
}

function localUser(text: string, self: ServerName): UserId | null {
  try {
    const user = parseUserId(text);
    return userIdParts(user).server === self ? user : null;
  } catch (error) {
    if (isParleyError(error)) return null;
    throw error;
  }
}
