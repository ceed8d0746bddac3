// The keys behind control certificates (docs/protocol.md §12.6.1) in a real
// homeserver: this server signs with its server signing key, and a peer's
// signature is checked against the keys of its verified key document, which
// the peer directory (the discovery cache, §12.10.1) fetched and verified.
// The federation core asks synchronously, so verification answers from the
// documents already at hand and says "unknown-key" otherwise; the core then
// emits keys-wanted (and verify itself starts the fetch), `want` fetches the
// documents, and the signature or feed is sent again by its sender. Nothing
// is ever believed on an unverified document.

import {
  type CertificateKeys,
  certificateStatement,
  type KeyPair,
  type RoomId,
  type ServerName,
  type SignatureProvider,
  signatureContexts,
  signInContext,
  type VerifiedServerKeyDocument,
  verifyCertificateSignature,
} from "@parley/protocol";
import type { Logger } from "../observability/logger.ts";
import type { PeerKeys } from "./discovery/peer-directory.ts";

export interface ServerCertificateKeysOptions {
  readonly self: ServerName;
  readonly keyPair: KeyPair;
  readonly provider: SignatureProvider;
  readonly directory: PeerKeys;
  readonly nowMs: () => number;
  readonly logger: Logger;
  /** How long a document is used before it is looked up again (the directory decides whether to fetch). */
  readonly documentLifetimeMs?: number;
  /** Peers remembered; the least recently looked up is forgotten first. */
  readonly entriesMax?: number;
}

interface KnownDocument {
  readonly document: VerifiedServerKeyDocument;
  readonly atMs: number;
}

/** Certificate keys the federation core can call synchronously, plus the fetch it asks for. */
export interface FetchingCertificateKeys extends CertificateKeys {
  /** Fetches (and verifies) the key documents of `servers`; answers later `verify` calls. */
  want(servers: readonly ServerName[]): void;
  /** The public keys a signature by `server` is checked against; undefined while its document is not at hand. */
  publicKeysOf(server: ServerName): readonly Uint8Array[] | undefined;
}

export class ServerCertificateKeys implements FetchingCertificateKeys {
  readonly #options: ServerCertificateKeysOptions;
  readonly #documents = new Map<ServerName, KnownDocument>();
  readonly #fetching = new Set<ServerName>();
  readonly #lifetimeMs: number;
  readonly #entriesMax: number;

  constructor(options: ServerCertificateKeysOptions) {
    this.#options = options;
    this.#lifetimeMs = options.documentLifetimeMs ?? 600_000;
    this.#entriesMax = options.entriesMax ?? 10_000;
  }

  sign(room: RoomId, index: number, chainHash: Uint8Array): Uint8Array {
    const { provider, keyPair } = this.#options;
    const statement = certificateStatement(room, index, chainHash);
    return signInContext(provider, keyPair, signatureContexts.controlCertificate, statement);
  }

  verify(
    server: ServerName,
    room: RoomId,
    index: number,
    chainHash: Uint8Array,
    signature: Uint8Array,
  ): "valid" | "invalid" | "unknown-key" {
    const { provider, self, keyPair } = this.#options;
    const statement = { room, index, chainHash };
    if (server === self) {
      return verifyCertificateSignature(provider, [keyPair.publicKey], statement, signature)
        ? "valid"
        : "invalid";
    }
    const known = this.#documents.get(server);
    if (known === undefined) {
      // Every path that meets an unknown signer (a sponsor's signature, a leaf's feed) fetches it.
      this.want([server]);
      return "unknown-key";
    }
    const nowMs = this.#options.nowMs();
    // An old document still answers while a fresh one is fetched: a rotation shows up then.
    if (nowMs - known.atMs >= this.#lifetimeMs) this.want([server]);
    // Any listed key counts (§12.6.1): a certificate carries no time, and a rotated-out key stays listed.
    const listed = known.document.keys.map((key) => key.publicKey);
    return verifyCertificateSignature(provider, listed, statement, signature) ? "valid" : "invalid";
  }

  publicKeysOf(server: ServerName): readonly Uint8Array[] | undefined {
    if (server === this.#options.self) return [this.#options.keyPair.publicKey];
    return this.#documents.get(server)?.document.keys.map((key) => key.publicKey);
  }

  want(servers: readonly ServerName[]): void {
    for (const server of servers) {
      if (server === this.#options.self || this.#fetching.has(server)) continue;
      this.#fetching.add(server);
      this.#options.directory
        .lookup(server)
        .then((document) => this.#remember(server, document))
        .catch((error: unknown) => {
          this.#options.logger.warn({ err: error, peer: server }, "certificate signer's keys");
        })
        .finally(() => this.#fetching.delete(server));
    }
  }

  #remember(server: ServerName, document: VerifiedServerKeyDocument): void {
    this.#documents.delete(server);
    this.#documents.set(server, { document, atMs: this.#options.nowMs() });
    while (this.#documents.size > this.#entriesMax) {
      const oldest = this.#documents.keys().next();
      if (oldest.done === true) break;
      this.#documents.delete(oldest.value);
    }
  }
}
