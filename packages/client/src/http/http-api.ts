// The client API over HTTP (docs/protocol.md §10.1): JSON in, JSON out,
// errors as ServerError with the table's code, no answer as NetworkError.
// It holds no session state: the caller passes the token for each call.

import { NetworkError, ServerError } from "../errors.ts";

export const clientApiPath = "/_parley/client/v1";

/** The subset of the platform's `fetch` the SDK uses, so tests can wrap it. */
export type FetchFunction = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface FetchInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  /** Needed only to discover the server name (`discoverServerName`); without it that is skipped. */
  arrayBuffer?(): Promise<ArrayBuffer>;
}

export interface HttpApiOptions {
  /** The homeserver's base URL, e.g. `https://chat.example.org` or `http://127.0.0.1:8008`. */
  readonly baseUrl: string;
  /** Defaults to the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** A request with no answer after this long fails with NetworkError. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export type HttpMethod = "GET" | "POST" | "DELETE";

const requestTimeoutMsDefault = 30_000;

function globalFetch(): FetchFunction {
  const platformFetch = (globalThis as { fetch?: FetchFunction }).fetch;
  if (platformFetch === undefined) {
    throw new NetworkError("this platform has no fetch; pass one in the options", undefined);
  }
  return platformFetch.bind(globalThis);
}

export class HttpApi {
  readonly baseUrl: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;

  constructor(options: HttpApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? globalFetch();
    this.#timeoutMs = options.requestTimeoutMs ?? requestTimeoutMsDefault;
  }

  /** The WebSocket URL of the stream (§10.8). */
  get streamUrl(): string {
    return `${this.baseUrl.replace(/^http/, "ws")}${clientApiPath}/stream`;
  }

  /**
   * One request. Resolves with the parsed JSON answer; throws ServerError for
   * an error answer and NetworkError when no answer came.
   */
  async request<Result>(
    method: HttpMethod,
    path: string,
    options: { readonly body?: unknown; readonly token?: string } = {},
  ): Promise<Result> {
    const headers = {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let status: number;
    let ok: boolean;
    let text: string;
    try {
      const response = await this.#fetch(`${this.baseUrl}${clientApiPath}${path}`, {
        method,
        headers,
        signal: controller.signal,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      status = response.status;
      ok = response.ok;
      text = await response.text();
    } catch (cause) {
      throw new NetworkError(`${method} ${path}: no answer from ${this.baseUrl}`, cause);
    } finally {
      clearTimeout(timer);
    }
    const parsed = parseJson(text);
    if (!ok) throw ServerError.fromBody(status, parsed);
    if (parsed === undefined) {
      throw new ServerError("bad_encoding", `${method} ${path}: the answer is not JSON`, {
        status,
      });
    }
    return parsed as Result;
  }
}

/** Where a homeserver serves its key document (docs/protocol.md §12.10.1). */
export const wellKnownServerPath = "/.well-known/parley/server";

/** The size a key document may have (its decoding limit is smaller). */
const keyDocumentBytesMax = 64 * 1024;

export interface RawFetchOptions {
  readonly fetch?: FetchFunction;
  readonly requestTimeoutMs?: number;
}

/**
 * The bytes at a path outside the client API (the well-known key document),
 * or undefined when there is no such answer: the caller falls back.
 */
export async function fetchBytes(
  baseUrl: string,
  path: string,
  options: RawFetchOptions,
): Promise<Uint8Array | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(),
    options.requestTimeoutMs ?? requestTimeoutMsDefault,
  );
  try {
    const fetch = options.fetch ?? globalFetch();
    const response = await fetch(`${baseUrl.replace(/\/+$/, "")}${path}`, {
      method: "GET",
      headers: {},
      signal: controller.signal,
    });
    if (!response.ok || response.arrayBuffer === undefined) return undefined;
    const bytes = new Uint8Array(await response.arrayBuffer());
    return bytes.byteLength > keyDocumentBytesMax ? undefined : bytes;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
