// A device's session with its homeserver: the access token, used for every
// request and for the stream, renewed without the password by signing a
// challenge with the device key (docs/protocol.md §10.2) when the server
// says it is no longer valid or when it is about to expire.

import {
  decodeBase64url,
  encodeBase64url,
  ParleyError,
  type SignatureProvider,
} from "@parley/protocol";
import { type DeviceKeys, signSessionChallenge } from "./device/device-keys.ts";
import type { HttpApi, HttpMethod } from "./http/http-api.ts";
import type { SavedState } from "./store/saved-state.ts";
import type { ChallengeSessionJson } from "./wire.ts";

/** A token this close to its expiry is renewed before use. */
export const sessionRenewBeforeExpiryMs = 24 * 60 * 60 * 1000;

export interface SessionDependencies {
  readonly api: HttpApi;
  readonly saved: SavedState;
  readonly keys: DeviceKeys;
  readonly provider: SignatureProvider;
  readonly serverName: string;
  readonly nowMs: () => number;
}

export class Session {
  readonly #dependencies: SessionDependencies;
  #accessToken: string;
  #expiresAtMs: number;
  /** One renewal at a time: concurrent 401s share it. */
  #renewal: Promise<void> | undefined;

  constructor(
    dependencies: SessionDependencies,
    grant: { accessToken: string; expiresAtMs: number },
  ) {
    this.#dependencies = dependencies;
    this.#accessToken = grant.accessToken;
    this.#expiresAtMs = grant.expiresAtMs;
  }

  get expiresAtMs(): number {
    return this.#expiresAtMs;
  }

  /** The current token, renewed first if it is about to expire. */
  async token(): Promise<string> {
    if (this.#expiresAtMs - this.#dependencies.nowMs() < sessionRenewBeforeExpiryMs) {
      await this.renew();
    }
    return this.#accessToken;
  }

  /**
   * An authenticated request. An `unauthorized` answer (token expired, or
   * ended by a logout elsewhere) renews the session once and repeats the
   * request; a second `unauthorized` is thrown.
   */
  async request<Result>(method: HttpMethod, path: string, body?: unknown): Promise<Result> {
    const options = (token: string) => (body === undefined ? { token } : { token, body });
    try {
      return await this.#dependencies.api.request<Result>(
        method,
        path,
        options(await this.token()),
      );
    } catch (error) {
      if (!(error instanceof ParleyError) || error.code !== "unauthorized") throw error;
      await this.renew();
      return this.#dependencies.api.request<Result>(method, path, options(this.#accessToken));
    }
  }

  /** Opens a new session by signing a challenge; throws `unauthorized` for a revoked or unknown device. */
  renew(): Promise<void> {
    this.#renewal ??= this.#renewOnce().finally(() => {
      this.#renewal = undefined;
    });
    return this.#renewal;
  }

  /** Ends the session at the server; the device stays registered. */
  async logout(): Promise<void> {
    await this.#dependencies.api.request("POST", "/logout", { token: this.#accessToken });
    await this.#dependencies.saved.forgetSession();
  }

  async #renewOnce(): Promise<void> {
    const { api, keys, provider, serverName, saved } = this.#dependencies;
    const { challenge } = await api.request<{ challenge: string }>("POST", "/session/challenge", {
      body: { deviceId: keys.deviceId },
    });
    const signature = signSessionChallenge(provider, keys, {
      challenge: decodeBase64url(challenge),
      server: serverName,
    });
    const grant = await api.request<ChallengeSessionJson>("POST", "/session", {
      body: { deviceId: keys.deviceId, challenge, signature: encodeBase64url(signature) },
    });
    this.#accessToken = grant.accessToken;
    this.#expiresAtMs = grant.expiresAtMs;
    await saved.saveSession({ accessToken: grant.accessToken, expiresAtMs: grant.expiresAtMs });
  }
}
