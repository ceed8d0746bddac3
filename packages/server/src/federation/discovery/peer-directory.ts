// Finds a peer server's verified key document (docs/protocol.md ch. 6 and
// §12.10.1): fetched from its well-known path, verified for the name it was
// fetched for, checked for continuity with the document trusted before (so a
// rotation is followed and a forged replacement refused), and cached with an
// expiry in a bounded map. The fetch itself is injected, so tests can serve
// any bytes.

import {
  isLoopbackServerName,
  ParleyError,
  type ServerName,
  type SignatureProvider,
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "@parley/protocol";
import { fetchDocumentBytes } from "./document-fetch.ts";

/** Where every server publishes its key document (§12.10.1). */
export const wellKnownDocumentPath = "/.well-known/parley/server";

/** Bytes of a key document (§3.4); more is refused before verification. */
export const keyDocumentBytesMax = 8192;

/** Fetches the bytes at `url`; throws `unavailable` (or `payload_too_large`) on failure. */
export type DocumentFetcher = (url: string) => Promise<Uint8Array>;

/** What the links need from a directory. */
export interface PeerKeys {
  /** The peer's current verified document, from the cache while it is fresh. */
  lookup(server: ServerName): Promise<VerifiedServerKeyDocument>;
  /**
   * Fetches again (a handshake signature failed: the peer may have rotated),
   * unless the last fetch is younger than the refresh interval.
   */
  refresh(server: ServerName): Promise<VerifiedServerKeyDocument>;
}

export interface PeerDirectoryOptions {
  readonly provider: SignatureProvider;
  readonly nowMs: () => number;
  readonly fetchDocument?: DocumentFetcher;
  /** How long a fetched document is used before it is fetched again. */
  readonly documentLifetimeMs?: number;
  /** Least time between two fetches for one server, however often a refresh is asked for. */
  readonly refreshIntervalMinMs?: number;
  /** How long an expired document still serves when its server cannot be reached. */
  readonly staleServeMaxMs?: number;
  /** Servers remembered; the least recently used is forgotten first. */
  readonly entriesMax?: number;
  /** Time one fetch may take. */
  readonly fetchTimeoutMs?: number;
}

interface CacheEntry {
  readonly document: VerifiedServerKeyDocument;
  readonly fetchedAtMs: number;
}

export const peerDirectoryDefaults = {
  // An hour: a rotation is seen within the hour, and a failed handshake
  // signature refreshes sooner.
  documentLifetimeMs: 3_600_000,
  refreshIntervalMinMs: 10_000,
  // A peer whose web server is down for a day still authenticates over the
  // key it had, which is what its signatures would verify against anyway.
  staleServeMaxMs: 86_400_000,
  entriesMax: 10_000,
  fetchTimeoutMs: 10_000,
} as const;

/** The URL of a server's key document: https, or http for a loopback name (§6.2). */
export function keyDocumentUrl(server: ServerName): string {
  const scheme = isLoopbackServerName(server) ? "http" : "https";
  return `${scheme}://${server}${wellKnownDocumentPath}`;
}

export class PeerDirectory implements PeerKeys {
  readonly #options: Required<Omit<PeerDirectoryOptions, "fetchDocument">>;
  readonly #fetch: DocumentFetcher;
  readonly #entries = new Map<ServerName, CacheEntry>();
  readonly #fetching = new Map<ServerName, Promise<VerifiedServerKeyDocument>>();

  constructor(options: PeerDirectoryOptions) {
    this.#options = {
      provider: options.provider,
      nowMs: options.nowMs,
      documentLifetimeMs: options.documentLifetimeMs ?? peerDirectoryDefaults.documentLifetimeMs,
      refreshIntervalMinMs:
        options.refreshIntervalMinMs ?? peerDirectoryDefaults.refreshIntervalMinMs,
      staleServeMaxMs: options.staleServeMaxMs ?? peerDirectoryDefaults.staleServeMaxMs,
      entriesMax: options.entriesMax ?? peerDirectoryDefaults.entriesMax,
      fetchTimeoutMs: options.fetchTimeoutMs ?? peerDirectoryDefaults.fetchTimeoutMs,
    };
    this.#fetch =
      options.fetchDocument ??
      ((url) => fetchDocumentBytes(url, keyDocumentBytesMax, this.#options.fetchTimeoutMs));
  }

  /** Servers in the cache, for tests and metrics. */
  get size(): number {
    return this.#entries.size;
  }

  lookup(server: ServerName): Promise<VerifiedServerKeyDocument> {
    const entry = this.#entries.get(server);
    const nowMs = this.#options.nowMs();
    if (entry !== undefined && nowMs - entry.fetchedAtMs < this.#options.documentLifetimeMs) {
      this.#touch(server, entry);
      return Promise.resolve(entry.document);
    }
    return this.#fetchOnce(server);
  }

  refresh(server: ServerName): Promise<VerifiedServerKeyDocument> {
    const entry = this.#entries.get(server);
    const nowMs = this.#options.nowMs();
    if (entry !== undefined && nowMs - entry.fetchedAtMs < this.#options.refreshIntervalMinMs) {
      return Promise.resolve(entry.document);
    }
    return this.#fetchOnce(server);
  }

  /** One fetch per server at a time; concurrent callers share it. */
  #fetchOnce(server: ServerName): Promise<VerifiedServerKeyDocument> {
    const running = this.#fetching.get(server);
    if (running !== undefined) return running;
    const fetching = this.#fetchAndVerify(server).finally(() => this.#fetching.delete(server));
    this.#fetching.set(server, fetching);
    return fetching;
  }

  async #fetchAndVerify(server: ServerName): Promise<VerifiedServerKeyDocument> {
    const entry = this.#entries.get(server);
    let bytes: Uint8Array;
    try {
      bytes = await this.#fetch(keyDocumentUrl(server));
    } catch (error) {
      const nowMs = this.#options.nowMs();
      const staleForMs = entry === undefined ? 0 : nowMs - entry.fetchedAtMs;
      if (
        entry !== undefined &&
        staleForMs < this.#options.documentLifetimeMs + this.#options.staleServeMaxMs
      ) {
        return entry.document;
      }
      if (error instanceof ParleyError) throw error;
      throw new ParleyError("unavailable", `cannot fetch the key document of ${server}`, {
        cause: error,
      });
    }
    const nowMs = this.#options.nowMs();
    // Verification failures (signature_invalid, server_mismatch,
    // key_continuity_broken, record_replayed, ...) are thrown as they are: the
    // document trusted before stays trusted.
    const document = verifyServerKeyDocument(bytes, {
      provider: this.#options.provider,
      nowMs,
      expectedServer: server,
      ...(entry === undefined ? {} : { trusted: entry.document }),
    });
    this.#touch(server, { document, fetchedAtMs: nowMs });
    return document;
  }

  #touch(server: ServerName, entry: CacheEntry): void {
    this.#entries.delete(server);
    this.#entries.set(server, entry);
    while (this.#entries.size > this.#options.entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}
