// A small HTTP client for the Parley client API (docs/protocol.md, Client
// API): every request and response in JSON, binary fields in base64url, and
// errors as ClientError with the wire code. It keeps no state beyond the
// base URL and the access token.

import { ServerError, signSessionChallenge } from "@parley/client";
import {
  type AcceptedMessageJson,
  decodeBase64url,
  encodeBase64url,
  type HistoryPageJson,
  makeUserId,
  parseServerName,
  type RoomId,
  signRoomMessage,
  type UserId,
} from "@parley/protocol";
import { type Device, deviceRecordRequest } from "./device.ts";

export const clientApiPath = "/_parley/client/v1";

/**
 * An error answer of the API: the SDK's ServerError (code from the table,
 * HTTP status, `roomCode`, `retryAfterMs`), built from a status and a body,
 * with the code at the front of its message.
 */
export class ClientError extends ServerError {
  constructor(
    status: number,
    body: { code?: unknown; message?: unknown; roomCode?: unknown; retryAfterMs?: unknown },
  ) {
    const parsed = ServerError.fromBody(status, body);
    // "code: message", as the command's tools print it.
    super(parsed.code, `${parsed.code}: ${parsed.message}`, {
      status,
      roomCode: parsed.roomCode,
      retryAfterMs: parsed.retryAfterMs,
    });
  }
}

export interface SessionGrant {
  readonly userId: string;
  readonly deviceId: string;
  readonly attestation: string;
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

export class ParleyClient {
  readonly baseUrl: string;
  /** The homeserver's name, as in user ids (e.g. localhost:8008). */
  readonly serverName: string;
  readonly device: Device;
  accessToken: string | undefined;
  userId: UserId | undefined;

  constructor(input: { baseUrl: string; serverName: string; device: Device }) {
    this.baseUrl = input.baseUrl.replace(/\/$/, "");
    this.serverName = parseServerName(input.serverName);
    this.device = input.device;
  }

  async register(userName: string, password: string, inviteToken?: string): Promise<SessionGrant> {
    const userId = makeUserId(userName, parseServerName(this.serverName));
    const deviceRecord = deviceRecordRequest(this.device, userId, { nowMs: Date.now() });
    const grant = await this.request<SessionGrant>("POST", "/register", {
      userName,
      password,
      deviceRecord,
      ...(inviteToken === undefined ? {} : { inviteToken }),
    });
    return this.#adopt(grant);
  }

  async login(userName: string, password: string): Promise<SessionGrant> {
    const userId = makeUserId(userName, parseServerName(this.serverName));
    const deviceRecord = deviceRecordRequest(this.device, userId, { nowMs: Date.now() });
    return this.#adopt(
      await this.request<SessionGrant>("POST", "/login", { userName, password, deviceRecord }),
    );
  }

  /** A new session without the password: the device signs a challenge. */
  async openSession(): Promise<{ accessToken: string; expiresAtMs: number }> {
    const { challenge } = await this.request<{ challenge: string }>("POST", "/session/challenge", {
      deviceId: this.device.deviceId,
    });
    const signature = signSessionChallenge(this.device.provider, this.device, {
      challenge: decodeBase64url(challenge),
      server: this.serverName,
    });
    const grant = await this.request<{ accessToken: string; expiresAtMs: number; userId: string }>(
      "POST",
      "/session",
      { deviceId: this.device.deviceId, challenge, signature: encodeBase64url(signature) },
    );
    this.accessToken = grant.accessToken;
    this.userId = grant.userId as UserId;
    return grant;
  }

  createRoom(input: {
    clientId: string;
    name: string;
    topic?: string;
    contentType?: string;
    joinRule?: "invite" | "knock" | "open";
  }): Promise<{ roomId: RoomId; logIndex: number; duplicate: boolean }> {
    return this.request("POST", "/rooms", {
      clientId: input.clientId,
      name: input.name,
      topic: input.topic ?? "",
      contentType: input.contentType ?? "text/plain",
      joinRule: input.joinRule ?? "invite",
    });
  }

  act(
    roomId: string,
    action: Record<string, unknown>,
    clientId?: string,
  ): Promise<{ logIndex: number }> {
    return this.request("POST", `/rooms/${encodeURIComponent(roomId)}/actions`, {
      action,
      ...(clientId === undefined ? {} : { clientId }),
    });
  }

  /** Signs `text` (or bytes) with the device key and posts it. */
  send(
    roomId: RoomId,
    body: string | Uint8Array,
    options: { clientId: string; contentType?: string },
  ): Promise<AcceptedMessageJson> {
    const envelope = this.signMessage(roomId, body, options);
    return this.postEnvelope(roomId, envelope);
  }

  signMessage(
    roomId: RoomId,
    body: string | Uint8Array,
    options: { clientId: string; contentType?: string },
  ): string {
    const bytes = signRoomMessage(this.device.provider, this.device.keyPair, {
      roomId,
      contentType: options.contentType ?? "text/plain",
      body: typeof body === "string" ? new TextEncoder().encode(body) : body,
      clientId: options.clientId,
      sentAtMs: Date.now(),
    });
    return encodeBase64url(bytes);
  }

  postEnvelope(roomId: string, envelope: string): Promise<AcceptedMessageJson> {
    return this.request("POST", `/rooms/${encodeURIComponent(roomId)}/messages`, {
      message: envelope,
    });
  }

  history(
    roomId: string,
    query: { from?: number; direction?: "backward" | "forward"; limit?: number } = {},
  ): Promise<HistoryPageJson> {
    const parameters = new URLSearchParams();
    if (query.from !== undefined) parameters.set("from", String(query.from));
    if (query.direction !== undefined) parameters.set("direction", query.direction);
    if (query.limit !== undefined) parameters.set("limit", String(query.limit));
    const suffix = parameters.size === 0 ? "" : `?${parameters.toString()}`;
    return this.request("GET", `/rooms/${encodeURIComponent(roomId)}/messages${suffix}`);
  }

  async request<Result>(method: string, path: string, body?: unknown): Promise<Result> {
    const headers = {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(this.accessToken === undefined ? {} : { authorization: `Bearer ${this.accessToken}` }),
    };
    const response = await fetch(`${this.baseUrl}${clientApiPath}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed: unknown = text === "" ? {} : JSON.parse(text);
    if (!response.ok) throw new ClientError(response.status, parsed as Record<string, unknown>);
    return parsed as Result;
  }

  #adopt(grant: SessionGrant): SessionGrant {
    this.accessToken = grant.accessToken;
    this.userId = grant.userId as UserId;
    return grant;
  }
}
