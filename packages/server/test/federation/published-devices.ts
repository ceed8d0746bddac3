// Where in-process servers find each other's key documents and users' device
// lists (docs/protocol.md §12.14): their in-process names (`a.test`) are not
// where they listen, so each started server's address is noted here and
// fetched over real HTTP on loopback; servers that speak frames by hand
// (RawServer) publish theirs here directly, as bytes they made themselves —
// which is how a test plays a homeserver that lies about its devices.

import {
  attestDeviceRecord,
  createDeviceRevocation,
  createServerKeyDocument,
  deviceListBytesMax,
  encodeDeviceList,
  type KeyPair,
  nobleSignatureProvider,
  parseUserId,
  type ServerName,
  signDeviceRecord,
  type UserId,
} from "@parley/protocol";
import { deviceListPath } from "../../src/federation/discovery/device-list-route.ts";
import { fetchDocumentBytes } from "../../src/federation/discovery/document-fetch.ts";
import {
  keyDocumentBytesMax,
  PeerDirectory,
  wellKnownDocumentPath,
} from "../../src/federation/discovery/peer-directory.ts";
import type { HomeserverEnvironment } from "../../src/process/homeserver.ts";

const provider = nobleSignatureProvider;
const fetchTimeoutMs = 5000;

/** Started servers' base URLs (http://127.0.0.1:port), by name. */
const listening = new Map<ServerName, string>();
/** Hand-made publications of raw servers, by name and path. */
const published = new Map<ServerName, Map<string, Uint8Array>>();

export function noteListening(name: ServerName, url: string): void {
  listening.set(name, url);
}

async function fetchPublished(url: string, bytesMax: number): Promise<Uint8Array> {
  const parsed = new URL(url);
  const server = parsed.host as ServerName;
  const bytes = published.get(server)?.get(parsed.pathname);
  if (bytes !== undefined) return bytes;
  const base = listening.get(server);
  if (base === undefined) return fetchDocumentBytes(url, bytesMax, fetchTimeoutMs);
  return fetchDocumentBytes(`${base}${parsed.pathname}`, bytesMax, fetchTimeoutMs);
}

/** The environment part every in-process homeserver gets. */
export function inProcessDeviceLists(): NonNullable<HomeserverEnvironment["deviceLists"]> {
  return {
    keys: new PeerDirectory({
      provider,
      nowMs: () => Date.now(),
      fetchDocument: (url) => fetchPublished(url, keyDocumentBytesMax),
    }),
    fetchList: (server, user) =>
      fetchPublished(`https://${server}${deviceListPath(user)}`, deviceListBytesMax),
  };
}

/** A raw server's publications: its key document, and device lists it makes up as it likes. */
export class PublishingServer {
  readonly keyPair: KeyPair = provider.generateKeyPair();
  readonly keyDocument: Uint8Array;
  readonly #paths = new Map<string, Uint8Array>();

  constructor(readonly name: ServerName) {
    // One reading of the clock: a key valid from a later millisecond than the
    // document's issue time would not have been valid when it was issued.
    const startMs = Date.now() - 60_000;
    this.keyDocument = createServerKeyDocument(
      provider,
      {
        server: name,
        serial: 1,
        issuedAtMs: startMs,
        federationEndpoint: `https://${name}/_parley/federation/v1`,
        keys: [
          {
            publicKey: this.keyPair.publicKey,
            validFromMs: startMs,
            validUntilMs: null,
          },
        ],
      },
      [this.keyPair],
    );
    this.#paths.set(wellKnownDocumentPath, this.keyDocument);
    published.set(name, this.#paths);
  }

  /** A record of `device` for `user`, attested by `attester` (this server's key unless told). */
  record(user: string, device: KeyPair, attester: KeyPair = this.keyPair): Uint8Array {
    const nowMs = Date.now();
    const request = signDeviceRecord(provider, device, {
      user: parseUserId(user),
      sequence: 1,
      linkedDeviceKeys: [],
      validFromMs: nowMs - 1000,
      validUntilMs: nowMs + 86_400_000,
    });
    return attestDeviceRecord(provider, { name: this.name, keyPair: attester }, request, nowMs);
  }

  /** A revocation of `device` of `user`, signed by this server at `revokedAtMs`. */
  revocation(user: string, device: KeyPair, revokedAtMs: number): Uint8Array {
    return createDeviceRevocation(provider, this.keyPair, {
      user: parseUserId(user),
      deviceKey: device.publicKey,
      revokedAtMs,
    });
  }

  /** Publishes `user`'s list as these records and revocations, replacing any before. */
  publish(user: string, records: Uint8Array[], revocations: Uint8Array[] = []): void {
    const id: UserId = parseUserId(user);
    this.#paths.set(deviceListPath(id), encodeDeviceList({ user: id, records, revocations }));
  }

  /** The bytes published for `user`'s list (an empty list if none was). */
  listOf(user: UserId): Uint8Array {
    return (
      this.#paths.get(deviceListPath(user)) ??
      encodeDeviceList({ user, records: [], revocations: [] })
    );
  }
}
