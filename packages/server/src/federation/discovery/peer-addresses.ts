// Where to connect for a named peer, when it is not where its name points:
// the setting `federation.peer_addresses` maps server names to host:port
// (§12.10.1). The key document is fetched, and the link dialled, at the
// mapped address; the document must still be the one its name signs for, so
// a mapping can redirect traffic but never change whom it authenticates.
// Operators use it for split-horizon networks; the loopback tests put a TCP
// proxy per pair of servers there, so cutting a proxy is a real partition.

import { ParleyError, parseServerName, type ServerName, serverNameParts } from "@parley/protocol";
import type { DocumentFetcher, PeerKeys } from "./peer-directory.ts";

/** Mapped peers at most (the setting is typed by an operator or a test). */
export const peerAddressesMax = 1000;

export type PeerAddresses = ReadonlyMap<ServerName, string>;

/**
 * Parses `name=host:port` entries separated by commas or white space. Both
 * sides are server names in the §2.1 sense (a host and a port).
 */
export function parsePeerAddresses(text: string): PeerAddresses {
  const addresses = new Map<ServerName, string>();
  for (const entry of text.split(/[\s,]+/).filter((part) => part !== "")) {
    const at = entry.indexOf("=");
    if (at === -1) {
      throw new ParleyError("invalid_argument", `"${entry}" is not name=host:port`);
    }
    const server = parseServerName(entry.slice(0, at));
    const address = parseServerName(entry.slice(at + 1));
    if (serverNameParts(address).port === undefined) {
      throw new ParleyError("invalid_argument", `"${entry}": the address needs a port`);
    }
    addresses.set(server, address);
    if (addresses.size > peerAddressesMax) {
      throw new ParleyError("invalid_argument", `at most ${peerAddressesMax} peer addresses`);
    }
  }
  return addresses;
}

/** `url` with its host:port replaced when it names a mapped server. */
export function redirectedUrl(url: string, addresses: PeerAddresses): string {
  const parsed = new URL(url);
  const address = addresses.get(parsed.host as ServerName);
  if (address === undefined) return url;
  parsed.host = address;
  return parsed.href;
}

/** A fetcher that fetches mapped servers' documents at their mapped address. */
export function redirectingFetcher(
  fetch: DocumentFetcher,
  addresses: PeerAddresses,
): DocumentFetcher {
  return (url) => fetch(redirectedUrl(url, addresses));
}

/** Keys whose documents name the mapped address as the federation endpoint to dial. */
export function redirectingPeerKeys(keys: PeerKeys, addresses: PeerAddresses): PeerKeys {
  const redirect = async (found: ReturnType<PeerKeys["lookup"]>) => {
    const document = await found;
    return {
      ...document,
      federationEndpoint: redirectedUrl(document.federationEndpoint, addresses),
    };
  };
  return {
    lookup: (server) => redirect(keys.lookup(server)),
    refresh: (server) => redirect(keys.refresh(server)),
  };
}
