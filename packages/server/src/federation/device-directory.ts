// Which devices belong to which users of other servers (docs/protocol.md
// §12.14): each user's device list, fetched from their homeserver, verified
// against its key document and cached with an expiry; this server's own users
// answered from its device table. Sponsors ask before stamping (`check`,
// which fetches when the list is missing, old or does not name the device);
// the projection asks before showing (`verdict` answers synchronously from
// the cache, so a round of messages from known devices costs no IO, and
// starts a background refresh of an old list; `settle` first when it says
// "unknown").
//
// A device missing from a cached list may simply be newer than the list, so
// "not bound" is believed only from a list whose fetch began after the
// message was received here (`listSinceMs`): the device existed before its
// message was sent, so such a list names it if its homeserver vouches for it.
// No clocks of two servers are compared.

import {
  type DeviceId,
  deviceBinding,
  isParleyError,
  type ServerName,
  type SignatureProvider,
  serverOfUser,
  type UserId,
  type VerifiedDeviceList,
  verifyDeviceList,
} from "@parley/protocol";
import type { Logger } from "../observability/logger.ts";
import type { PeerKeys } from "./discovery/peer-directory.ts";

/** Fetches the list bytes of `user` from its homeserver; throws `unavailable` when it cannot. */
export type DeviceListFetcher = (server: ServerName, user: UserId) => Promise<Uint8Array>;

export interface DeviceDirectoryOptions {
  readonly provider: SignatureProvider;
  readonly nowMs: () => number;
  /** This server's name, once known: its own users are answered by `localList`. */
  readonly self: () => ServerName | null;
  readonly keys: Pick<PeerKeys, "lookup">;
  readonly fetchList: DeviceListFetcher;
  /** The list of one of this server's own users, from its device table. */
  readonly localList: (user: UserId) => Promise<VerifiedDeviceList>;
  readonly logger: Logger;
  /** How long a list is believed before it is fetched again. */
  readonly listLifetimeMs?: number;
}

export const deviceDirectoryDefaults = {
  listLifetimeMs: 60_000,
  /** Least time between two failed fetches of one user's list. */
  retryIntervalMs: 10_000,
  usersMax: 10_000,
} as const;

/** What the cache says about a message's device. */
export type DeviceVerdict =
  | { readonly kind: "bound" }
  | { readonly kind: "refused"; readonly code: "device_revoked" | "user_mismatch" }
  /** No list that can tell: `settle` fetches one. */
  | { readonly kind: "unknown" };

interface Entry {
  readonly list: VerifiedDeviceList | null;
  /** When the fetch that gave `list` began; failures keep the last list and its time. */
  readonly fetchStartedAtMs: number;
  readonly failedAtMs: number | null;
}

interface Fetch {
  readonly startedAtMs: number;
  readonly done: Promise<void>;
}

export class DeviceDirectory {
  readonly #options: DeviceDirectoryOptions;
  readonly #lifetimeMs: number;
  readonly #entries = new Map<UserId, Entry>();
  readonly #fetching = new Map<UserId, Fetch>();

  constructor(options: DeviceDirectoryOptions) {
    this.#options = options;
    this.#lifetimeMs = options.listLifetimeMs ?? deviceDirectoryDefaults.listLifetimeMs;
  }

  /** The directory's clock, against which `listSinceMs` is compared. */
  nowMs(): number {
    return this.#options.nowMs();
  }

  /**
   * From the cache alone. "Not bound" only from a list fetched from
   * `listSinceMs` on (see above); an old list still answers while a fresh one
   * is fetched in the background.
   */
  verdict(
    user: UserId,
    device: DeviceId,
    acceptedAtMs: number,
    listSinceMs = Number.POSITIVE_INFINITY,
  ): DeviceVerdict {
    const entry = this.#entries.get(user);
    if (entry === undefined) return { kind: "unknown" };
    if (this.#expired(entry) && !this.#fetching.has(user)) {
      void this.#refresh(user, this.#options.nowMs());
    }
    if (entry.list === null) return { kind: "unknown" };
    const binding = deviceBinding(entry.list, device, acceptedAtMs);
    if (binding.kind === "bound") return binding;
    if (binding.kind === "revoked") return { kind: "refused", code: "device_revoked" };
    if (entry.fetchStartedAtMs >= listSinceMs) return { kind: "refused", code: "user_mismatch" };
    return { kind: "unknown" };
  }

  /**
   * Fetches the lists of these users unless one was fetched from `sinceMs`
   * on (or failed since then); settles when each fetch has ended.
   */
  async settle(users: Iterable<UserId>, sinceMs: number): Promise<void> {
    const fetches: Promise<void>[] = [];
    for (const user of new Set(users)) fetches.push(this.#refresh(user, sinceMs));
    await Promise.all(fetches);
  }

  /** A sponsor's check before stamping: fetches when the cache cannot tell or is old. */
  async check(user: UserId, device: DeviceId, acceptedAtMs: number): Promise<DeviceVerdict> {
    const sinceMs = this.#options.nowMs();
    const entry = this.#entries.get(user);
    const cached = this.verdict(user, device, acceptedAtMs, sinceMs);
    if (cached.kind !== "unknown" && entry !== undefined && !this.#expired(entry)) return cached;
    await this.settle([user], sinceMs);
    return this.verdict(user, device, acceptedAtMs, sinceMs);
  }

  /**
   * A list `peer` pushed (§12.14.2): believed only from the user's own
   * homeserver and only for users this server asked about already; verified
   * like a fetched one, and dropped if it does not verify. It may have waited
   * in a queue, so it does not count as fetched now: a device it does not
   * name is still fetched for.
   */
  async offer(peer: ServerName, user: UserId, bytes: Uint8Array): Promise<void> {
    const old = this.#entries.get(user);
    if (serverOfUser(user) !== peer || old === undefined) return;
    const { provider, nowMs } = this.#options;
    try {
      const serverKeys = await this.#options.keys.lookup(peer);
      const list = verifyDeviceList(bytes, { user, provider, serverKeys, nowMs: nowMs() });
      this.#store(user, { list, fetchStartedAtMs: old.fetchStartedAtMs, failedAtMs: null });
    } catch (error) {
      this.#options.logger.warn({ err: error, peer, user }, "a pushed device list was dropped");
    }
  }

  /** Forgets a user's list: one of this server's users lost a device, and the table says so now. */
  forget(user: UserId): void {
    this.#entries.delete(user);
  }

  #expired(entry: Entry): boolean {
    const nowMs = this.#options.nowMs();
    if (
      entry.failedAtMs !== null &&
      nowMs - entry.failedAtMs < deviceDirectoryDefaults.retryIntervalMs
    ) {
      return false;
    }
    return entry.list === null || nowMs - entry.fetchStartedAtMs >= this.#lifetimeMs;
  }

  /** One fetch per user at a time, reused when it began from `sinceMs` on. */
  #refresh(user: UserId, sinceMs: number): Promise<void> {
    const entry = this.#entries.get(user);
    if (entry !== undefined && Math.max(entry.fetchStartedAtMs, entry.failedAtMs ?? 0) >= sinceMs) {
      return Promise.resolve();
    }
    const running = this.#fetching.get(user);
    if (running !== undefined && running.startedAtMs >= sinceMs) return running.done;
    const previous = running?.done ?? Promise.resolve();
    const startedAtMs = this.#options.nowMs();
    const done = previous
      .then(() => this.#fetch(user))
      .then(
        (list) => this.#store(user, { list, fetchStartedAtMs: startedAtMs, failedAtMs: null }),
        (error: unknown) => {
          this.#options.logger.warn({ err: error, user }, "a user's device list could not be had");
          if (isParleyError(error) && !["unavailable", "payload_too_large"].includes(error.code)) {
            // A list that does not verify: its homeserver vouches for none of the user's devices.
            const none = { user, bound: new Set<DeviceId>(), revokedAtMs: new Map() };
            this.#store(user, { list: none, fetchStartedAtMs: startedAtMs, failedAtMs: null });
            return;
          }
          const old = this.#entries.get(user);
          this.#store(user, {
            list: old?.list ?? null,
            fetchStartedAtMs: old?.fetchStartedAtMs ?? 0,
            failedAtMs: startedAtMs,
          });
        },
      )
      .finally(() => {
        if (this.#fetching.get(user)?.done === done) this.#fetching.delete(user);
      });
    this.#fetching.set(user, { startedAtMs, done });
    return done;
  }

  async #fetch(user: UserId): Promise<VerifiedDeviceList> {
    const server = serverOfUser(user);
    if (server === this.#options.self()) return this.#options.localList(user);
    const [serverKeys, bytes] = await Promise.all([
      this.#options.keys.lookup(server),
      this.#options.fetchList(server, user),
    ]);
    const { provider, nowMs } = this.#options;
    return verifyDeviceList(bytes, { user, provider, serverKeys, nowMs: nowMs() });
  }

  #store(user: UserId, entry: Entry): void {
    // Re-inserted last, so the first key is the least recently fetched.
    this.#entries.delete(user);
    if (this.#entries.size >= deviceDirectoryDefaults.usersMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(user, entry);
  }
}
