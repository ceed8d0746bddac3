// A leaf attaches only over a live link, and a link exists only once someone
// dials it: so the driver keeps links dialled to the servers of every room
// this server takes part in — its sponsors, and the contacts a leaf started
// from. Dialling is idempotent and the transport backs off by itself.

import type { FederationHost } from "@parley/federation";
import type { ServerName } from "@parley/protocol";

/** The other servers of every room the host takes part in. */
export function roomServers(host: FederationHost): Set<ServerName> {
  const peers = new Set<ServerName>();
  for (const room of host.rooms()) {
    const session = host.session(room);
    if (session === undefined) continue;
    for (const server of session.replica.sponsors) peers.add(server);
    for (const server of session.contacts) peers.add(server);
  }
  peers.delete(host.self);
  return peers;
}
