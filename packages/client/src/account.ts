// Getting a device a session: register a new account, log in (reusing the
// device key this store already holds for the same account, with a higher
// record sequence), or restore a saved session. The result is what a
// ParleyClient is built from.

import {
  decodeBase64url,
  decodeCanonical,
  encodeBase64url,
  limits,
  makeUserId,
  parseServerName,
  type ServerName,
  type SignatureProvider,
  type UserId,
  verifyServerKeyDocument,
} from "@parley/protocol";
import {
  type DeviceKeys,
  deviceKeysFromSeed,
  generateDeviceKeys,
  signDeviceRecordRequest,
} from "./device/device-keys.ts";
import {
  fetchBytes,
  type HttpApi,
  type RawFetchOptions,
  wellKnownServerPath,
} from "./http/http-api.ts";
import type { SavedDevice, SavedSession, SavedState } from "./store/saved-state.ts";
import type { SessionGrantJson } from "./wire.ts";

export interface AccountInput {
  /** The homeserver's base URL, e.g. `https://chat.example.org` or `http://127.0.0.1:8008`. */
  readonly baseUrl: string;
  /** The local part of the user id: `alice` for `alice@chat.example.org`. */
  readonly userName: string;
  readonly password: string;
  /**
   * The homeserver's name as it appears in user ids. Default: the name in the
   * key document the server serves (`discoverServerName`), or, when it serves
   * none, one derived from `baseUrl` (`defaultServerName`).
   */
  readonly serverName?: string;
}

export interface RegisterInput extends AccountInput {
  /** Needed when the server's registration is invite-only. */
  readonly inviteToken?: string;
}

/** A device with a session: what a client runs on. */
export interface SignedIn {
  readonly keys: DeviceKeys;
  readonly device: SavedDevice;
  readonly session: SavedSession;
}

const loopbackHosts = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * The server name a base URL most likely belongs to: its host and port,
 * except that a loopback address is named `localhost:<port>`, the name a
 * homeserver gives itself when none is configured. Pass `serverName`
 * explicitly when the server is configured with another name.
 */
export function defaultServerName(baseUrl: string): string {
  const url = new URL(baseUrl);
  const port = url.port === "" ? "" : `:${url.port}`;
  const host = loopbackHosts.has(url.hostname) ? "localhost" : url.hostname;
  return parseServerName(`${host}${port}`);
}

/**
 * The server's own name, read from the key document it serves at its
 * well-known path and checked against the document's own signatures (trust
 * on first use, as for any first contact). Undefined when the server does
 * not serve one or it does not verify; callers then use `defaultServerName`.
 */
export async function discoverServerName(
  baseUrl: string,
  options: RawFetchOptions & { readonly provider: SignatureProvider; readonly nowMs: number },
): Promise<ServerName | undefined> {
  const bytes = await fetchBytes(baseUrl, wellKnownServerPath, options);
  if (bytes === undefined) return undefined;
  try {
    const document = decodeCanonical(bytes, limits.serverKeyDocumentDecodeLimits);
    const body = (document as { body?: { server?: unknown } }).body;
    if (typeof body?.server !== "string") return undefined;
    const verified = verifyServerKeyDocument(bytes, {
      provider: options.provider,
      nowMs: options.nowMs,
      expectedServer: parseServerName(body.server),
    });
    return verified.server;
  } catch {
    return undefined;
  }
}

export interface AccountDependencies {
  readonly api: HttpApi;
  /** For `discoverServerName`: the same fetch and timeout as the API. */
  readonly rawFetch: RawFetchOptions;
  readonly saved: SavedState;
  readonly provider: SignatureProvider;
  readonly nowMs: () => number;
}

/** The account's user id: the server name given, else the server's own, else one derived from the URL. */
async function accountOf(
  dependencies: AccountDependencies,
  input: AccountInput,
): Promise<{ userId: UserId; serverName: string }> {
  const serverName =
    input.serverName === undefined
      ? ((await discoverServerName(input.baseUrl, {
          ...dependencies.rawFetch,
          provider: dependencies.provider,
          nowMs: dependencies.nowMs(),
        })) ?? defaultServerName(input.baseUrl))
      : parseServerName(input.serverName);
  return { userId: makeUserId(input.userName, parseServerName(serverName)), serverName };
}

async function signIn(
  dependencies: AccountDependencies,
  input: AccountInput,
  keys: DeviceKeys,
  recordSequence: number,
  send: (deviceRecord: string) => Promise<SessionGrantJson>,
): Promise<SignedIn> {
  const { userId, serverName } = await accountOf(dependencies, input);
  const deviceRecord = signDeviceRecordRequest(dependencies.provider, keys, {
    user: userId,
    sequence: recordSequence,
    nowMs: dependencies.nowMs(),
  });
  const grant = await send(deviceRecord);
  const device: SavedDevice = {
    secretSeed: encodeBase64url(keys.keyPair.secretSeed),
    userId: grant.userId,
    serverName,
    baseUrl: input.baseUrl,
    recordSequence,
  };
  const session = { accessToken: grant.accessToken, expiresAtMs: grant.expiresAtMs };
  await dependencies.saved.saveDevice(device);
  await dependencies.saved.saveSession(session);
  return { keys, device, session };
}

/** Registers a new account with a new device key. */
export function registerAccount(
  dependencies: AccountDependencies,
  input: RegisterInput,
): Promise<SignedIn> {
  const keys = generateDeviceKeys(dependencies.provider);
  return signIn(dependencies, input, keys, 1, (deviceRecord) =>
    dependencies.api.request<SessionGrantJson>("POST", "/register", {
      body: {
        userName: input.userName,
        password: input.password,
        deviceRecord,
        ...(input.inviteToken === undefined ? {} : { inviteToken: input.inviteToken }),
      },
    }),
  );
}

/**
 * Logs in. A device this store already holds for the same account and
 * server resumes with a new record (sequence + 1); otherwise a new device key
 * is made, and becomes a new device of the account.
 */
export async function loginAccount(
  dependencies: AccountDependencies,
  input: AccountInput,
): Promise<SignedIn> {
  const { userId, serverName } = await accountOf(dependencies, input);
  const existing = await dependencies.saved.device();
  const reuse = existing !== undefined && existing.userId === userId;
  const keys = reuse
    ? deviceKeysFromSeed(dependencies.provider, decodeBase64url(existing.secretSeed))
    : generateDeviceKeys(dependencies.provider);
  const sequence = reuse ? existing.recordSequence + 1 : 1;
  return signIn(dependencies, { ...input, serverName }, keys, sequence, (deviceRecord) =>
    dependencies.api.request<SessionGrantJson>("POST", "/login", {
      body: { userName: input.userName, password: input.password, deviceRecord },
    }),
  );
}

/**
 * The device and session a store holds, or undefined when it holds no
 * device. A missing or expired session is left to the client to renew with
 * the device key.
 */
export async function savedSignIn(
  dependencies: Pick<AccountDependencies, "saved" | "provider">,
): Promise<SignedIn | undefined> {
  const device = await dependencies.saved.device();
  if (device === undefined) return undefined;
  const keys = deviceKeysFromSeed(dependencies.provider, decodeBase64url(device.secretSeed));
  const session = (await dependencies.saved.session()) ?? { accessToken: "", expiresAtMs: 0 };
  return { keys, device, session };
}
