// Accounts, devices and sessions. A device proves itself with its device
// identity record (DIR), which it signs; the homeserver attests the record
// with its server key, verifies the result exactly as a peer would, and binds
// the device key to the account. Sessions are bearer tokens whose SHA-256 is
// all the database keeps; a device opens one with its password (register,
// login) or by signing a single-use challenge with its device key.

import {
  attestDeviceRecord,
  type DeviceId,
  makeUserId,
  ParleyError,
  type SignatureProvider,
  type UserId,
  type VerifiedDeviceRecord,
  verifyDeviceRecord,
} from "@parley/protocol";
import type { RegistrationMode } from "../config/load.ts";
import {
  accessTokenLifetimeMs,
  sessionCacheMs,
  sessionsTouchTrackedMax,
  sessionTouchIntervalMs,
} from "../limits.ts";
import type { Device } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { toBase64url } from "./json-fields.ts";
import type { PasswordHasher } from "./passwords.ts";
import type { ServerIdentity } from "./server-identity.ts";
import type { SessionChallenges } from "./session-challenges.ts";
import { verifySessionChallenge } from "./session-proof.ts";
import { inviteTokenHash, newChallenge, newToken, tokenHash } from "./tokens.ts";

/** A request's verified credentials. */
export interface AuthenticatedSession {
  readonly userId: UserId;
  readonly localName: string;
  readonly deviceId: DeviceId;
  readonly tokenHash: Uint8Array;
}

export interface SessionGrant {
  readonly userId: string;
  readonly deviceId: string;
  /** The attested device identity record, base64url. */
  readonly attestation: string;
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

/** Told when credentials die, so open WebSockets die with them. */
export interface CredentialListener {
  /** `localName`'s device `deviceId` was revoked (its other devices are told, §10.8). */
  deviceRevoked(deviceId: string, localName: string): void;
  sessionEnded(tokenHash: Uint8Array): void;
}

export interface AccountDependencies {
  readonly storage: Storage;
  readonly identity: () => ServerIdentity;
  readonly provider: SignatureProvider;
  readonly passwords: PasswordHasher;
  readonly challenges: SessionChallenges;
  readonly registrationMode: RegistrationMode;
  readonly nowMs: () => number;
  readonly credentials: CredentialListener;
}

const wrongCredentials = "wrong user name or password";

export class Accounts {
  readonly #dependencies: AccountDependencies;
  /** When each session was last recorded as active, so touching is not a write per request. */
  readonly #lastTouchMs = new Map<string, number>();
  /**
   * Sessions read recently, so a busy device's requests are not a database
   * read each. Entries live at most limits.sessionCacheMs; logout and
   * revocation in this process remove them at once.
   */
  readonly #sessions = new Map<string, { session: AuthenticatedSession; untilMs: number }>();

  constructor(dependencies: AccountDependencies) {
    this.#dependencies = dependencies;
  }

  async register(input: {
    userName: string;
    password: string;
    inviteToken?: string | undefined;
    deviceRecord: Uint8Array;
  }): Promise<SessionGrant> {
    const { storage, passwords, registrationMode } = this.#dependencies;
    if (registrationMode === "closed") {
      throw new ParleyError("forbidden", "registration is closed on this server");
    }
    if (registrationMode === "invite-only" && input.inviteToken === undefined) {
      throw new ParleyError("forbidden", "registration needs an invite token on this server");
    }
    const userId = this.#userIdOf(input.userName);
    const record = this.#attestAndVerify(input.deviceRecord, userId);
    if ((await storage.devices.get(record.deviceId)) !== null) {
      throw new ParleyError("user_mismatch", "this device key is already registered");
    }
    const created = await storage.accounts.create({
      localName: input.userName,
      passwordHash: await passwords.hash(input.password),
      createdAtMs: this.#dependencies.nowMs(),
      ...(input.inviteToken === undefined
        ? {}
        : { inviteTokenHash: inviteTokenHash(input.inviteToken) }),
    });
    if (created.kind === "name-taken") {
      throw new ParleyError("conflict", `the user name ${input.userName} is taken`);
    }
    if (created.kind === "invite-unavailable") {
      throw new ParleyError("forbidden", "the invite token is unknown, used up or expired");
    }
    await this.#createDevice(input.userName, input.deviceRecord, record);
    return this.#grant(userId, record);
  }

  async login(input: {
    userName: string;
    password: string;
    deviceRecord: Uint8Array;
  }): Promise<SessionGrant> {
    const { storage, passwords } = this.#dependencies;
    const userId = this.#userIdOf(input.userName);
    const account = await storage.accounts.get(input.userName);
    const usable = account !== null && account.deactivatedAtMs === null;
    const matches = await passwords.verify(usable ? account.passwordHash : null, input.password);
    if (!matches) throw new ParleyError("unauthorized", wrongCredentials);
    const record = this.#attestAndVerify(input.deviceRecord, userId);
    const existing = await storage.devices.get(record.deviceId);
    if (existing === null) {
      await this.#createDevice(input.userName, input.deviceRecord, record);
    } else {
      await this.#resumeDevice(existing, input.userName, input.deviceRecord, record);
    }
    return this.#grant(userId, record);
  }

  /** Step one of a password-less session: a fresh single-use challenge for a live device. */
  async issueChallenge(deviceId: DeviceId): Promise<{ challenge: string; expiresAtMs: number }> {
    // Issued for unknown devices too, so the answer does not reveal which exist.
    const challenge = toBase64url(newChallenge());
    const expiresAtMs = this.#dependencies.challenges.issue(
      challenge,
      deviceId,
      this.#dependencies.nowMs(),
    );
    return { challenge, expiresAtMs };
  }

  /** Step two: the device's signature over the challenge opens a session. */
  async openSession(input: {
    deviceId: DeviceId;
    challenge: Uint8Array;
    signature: Uint8Array;
  }): Promise<Omit<SessionGrant, "attestation">> {
    const { storage, challenges, provider } = this.#dependencies;
    const nowMs = this.#dependencies.nowMs();
    const fresh = challenges.take(toBase64url(input.challenge), input.deviceId, nowMs);
    const signed =
      fresh &&
      verifySessionChallenge(provider, {
        challenge: input.challenge,
        deviceId: input.deviceId,
        server: this.#dependencies.identity().name,
        signature: input.signature,
      });
    const device = signed ? await storage.devices.get(input.deviceId) : null;
    if (device === null || device.revokedAtMs !== null) {
      throw new ParleyError("unauthorized", "the challenge is unknown, expired or not signed");
    }
    const userId = makeUserId(device.localName, this.#dependencies.identity().name);
    const session = await this.#newSession(input.deviceId);
    return { userId, deviceId: input.deviceId, ...session };
  }

  /** The session of a bearer token, or `unauthorized`. */
  async authenticate(token: string): Promise<AuthenticatedSession> {
    const { storage } = this.#dependencies;
    const nowMs = this.#dependencies.nowMs();
    const hash = tokenHash(token);
    const key = toBase64url(hash);
    const cached = this.#sessions.get(key);
    if (cached !== undefined && cached.untilMs > nowMs) return cached.session;
    const session = await storage.devices.findSession(hash, nowMs);
    if (session === null) {
      this.#sessions.delete(key);
      throw new ParleyError("unauthorized", "the access token is not valid");
    }
    this.#touch(hash, nowMs);
    const authenticated: AuthenticatedSession = {
      userId: makeUserId(session.localName, this.#dependencies.identity().name),
      localName: session.localName,
      deviceId: session.deviceId as DeviceId,
      tokenHash: hash,
    };
    if (this.#sessions.size >= sessionsTouchTrackedMax) this.#sessions.clear();
    this.#sessions.set(key, {
      session: authenticated,
      untilMs: Math.min(session.expiresAtMs, nowMs + sessionCacheMs),
    });
    return authenticated;
  }

  async listDevices(session: AuthenticatedSession): Promise<readonly Device[]> {
    return this.#dependencies.storage.devices.listForAccount(session.localName);
  }

  /** Revokes one of the user's devices for good; its sessions and sockets end at once. */
  async revokeDevice(session: AuthenticatedSession, deviceId: DeviceId): Promise<void> {
    const { storage, credentials } = this.#dependencies;
    const device = await storage.devices.get(deviceId);
    if (device === null || device.localName !== session.localName) {
      throw new ParleyError("not_found", "no such device of yours");
    }
    // Already revoked answers the same: revoking is idempotent.
    await storage.devices.revoke(deviceId, this.#dependencies.nowMs());
    for (const [key, cached] of this.#sessions) {
      if (cached.session.deviceId === deviceId) this.#sessions.delete(key);
    }
    credentials.deviceRevoked(deviceId, session.localName);
  }

  /**
   * Deactivates an account for good (the operator's decision): its devices are
   * revoked and their sessions and sockets end at once; the name stays taken.
   * Null if there is no such account; deactivating again changes nothing.
   */
  async deactivate(localName: string): Promise<{
    deactivatedAtMs: number;
    devicesRevoked: number;
    alreadyDeactivated: boolean;
  } | null> {
    const { storage, credentials } = this.#dependencies;
    const account = await storage.accounts.get(localName);
    if (account === null) return null;
    if (account.deactivatedAtMs !== null) {
      return {
        deactivatedAtMs: account.deactivatedAtMs,
        devicesRevoked: 0,
        alreadyDeactivated: true,
      };
    }
    const live = (await storage.devices.listForAccount(localName)).filter(
      (device) => device.revokedAtMs === null,
    );
    const nowMs = this.#dependencies.nowMs();
    // Another deactivation may win the race; either way the account is done.
    const changed = await storage.accounts.deactivate(localName, nowMs);
    const liveIds = new Set(live.map((device) => device.deviceId));
    for (const [key, cached] of this.#sessions) {
      if (liveIds.has(cached.session.deviceId)) this.#sessions.delete(key);
    }
    for (const deviceId of liveIds) credentials.deviceRevoked(deviceId, localName);
    return {
      deactivatedAtMs: nowMs,
      devicesRevoked: changed ? liveIds.size : 0,
      alreadyDeactivated: !changed,
    };
  }

  async logout(session: AuthenticatedSession): Promise<void> {
    await this.#dependencies.storage.devices.deleteSession(session.tokenHash);
    this.#sessions.delete(toBase64url(session.tokenHash));
    this.#dependencies.credentials.sessionEnded(session.tokenHash);
  }

  #userIdOf(userName: string): UserId {
    return makeUserId(userName, this.#dependencies.identity().name);
  }

  #attestAndVerify(requestBytes: Uint8Array, userId: UserId): VerifiedDeviceRecord {
    const { provider } = this.#dependencies;
    const identity = this.#dependencies.identity();
    const nowMs = this.#dependencies.nowMs();
    const attested = attestDeviceRecord(
      provider,
      { name: identity.name, keyPair: identity.keyPair },
      requestBytes,
      nowMs,
    );
    const record = verifyDeviceRecord(attested, {
      provider,
      serverKeys: identity.keyDocument,
      nowMs,
    });
    if (record.user !== userId) {
      throw new ParleyError("forbidden", `the device record names ${record.user}, not ${userId}`);
    }
    return record;
  }

  async #createDevice(
    localName: string,
    requestBytes: Uint8Array,
    record: VerifiedDeviceRecord,
  ): Promise<void> {
    const created = await this.#dependencies.storage.devices.create({
      deviceId: record.deviceId,
      localName,
      identityRecord: requestBytes,
      attestation: record.bytes,
      recordSequence: record.sequence,
      createdAtMs: this.#dependencies.nowMs(),
    });
    if (created.kind === "device-exists") {
      throw new ParleyError("conflict", "this device was registered at the same moment; log in");
    }
    if (created.kind !== "created") {
      throw new ParleyError("unauthorized", wrongCredentials);
    }
  }

  async #resumeDevice(
    existing: Device,
    localName: string,
    requestBytes: Uint8Array,
    record: VerifiedDeviceRecord,
  ): Promise<void> {
    if (existing.localName !== localName) {
      throw new ParleyError("user_mismatch", "this device key belongs to another user");
    }
    if (existing.revokedAtMs !== null) {
      throw new ParleyError("device_revoked", "this device was revoked; make a new device key");
    }
    if (record.sequence < existing.recordSequence) {
      throw new ParleyError("record_replayed", "a newer record of this device is already stored");
    }
    if (record.sequence > existing.recordSequence) {
      await this.#dependencies.storage.devices.updateRecord({
        deviceId: record.deviceId,
        identityRecord: requestBytes,
        attestation: record.bytes,
        recordSequence: record.sequence,
      });
    }
  }

  async #grant(userId: UserId, record: VerifiedDeviceRecord): Promise<SessionGrant> {
    const session = await this.#newSession(record.deviceId);
    return {
      userId,
      deviceId: record.deviceId,
      attestation: toBase64url(record.bytes),
      ...session,
    };
  }

  async #newSession(deviceId: string): Promise<{ accessToken: string; expiresAtMs: number }> {
    const nowMs = this.#dependencies.nowMs();
    const accessToken = newToken();
    const expiresAtMs = nowMs + accessTokenLifetimeMs;
    const stored = await this.#dependencies.storage.devices.createSession({
      tokenHash: tokenHash(accessToken),
      deviceId,
      createdAtMs: nowMs,
      expiresAtMs,
    });
    if (!stored) throw new ParleyError("device_revoked", "the device is revoked");
    return { accessToken, expiresAtMs };
  }

  #touch(hash: Uint8Array, nowMs: number): void {
    const key = toBase64url(hash);
    const last = this.#lastTouchMs.get(key) ?? 0;
    if (nowMs - last < sessionTouchIntervalMs) return;
    // Bounded: forgetting everything only costs one extra write per session.
    if (this.#lastTouchMs.size >= sessionsTouchTrackedMax) this.#lastTouchMs.clear();
    this.#lastTouchMs.set(key, nowMs);
    // Activity is informational; a failed write must not fail the request.
    this.#dependencies.storage.devices.touchSession(hash, nowMs).catch(() => {});
  }
}
