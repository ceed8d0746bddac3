import { isServerName, ParleyError, type ServerName } from "@parley/protocol";
import { type NodeId, nodeId } from "@parley/raft";

/**
 * A sponsor's Raft node id in one room: its server name and an incarnation,
 * written `server#incarnation`. The incarnation is the control index of the
 * entry that made the server a sponsor (1 for the creator, whose create entry
 * is index 1), so it is known to every replica from the log alone and is never
 * reused: a server that leaves the sponsor set and comes back is added by a
 * later entry, so it is a new node (Raft's safety needs ids never reused).
 *
 * The same id names the server as the origin of the messages it stamps, so a
 * re-added sponsor starts a fresh sequence instead of colliding with its old one.
 */
export interface SponsorNode {
  readonly server: ServerName;
  readonly incarnation: number;
}

/** Server names never contain "#" (host names, IP literals and ports only). */
const separator = "#";

export function sponsorNodeId(server: ServerName, incarnation: number): NodeId {
  if (!Number.isSafeInteger(incarnation) || incarnation < 1) {
    throw new ParleyError("invalid_argument", `incarnation must be a positive integer`);
  }
  return nodeId(`${server}${separator}${incarnation}`);
}

/** Parses `server#incarnation`; throws `bad_structure` for anything else. */
export function parseSponsorNodeId(text: string): SponsorNode {
  const at = text.lastIndexOf(separator);
  const server = at === -1 ? "" : text.slice(0, at);
  const digits = at === -1 ? "" : text.slice(at + 1);
  if (!isServerName(server) || !/^[1-9][0-9]{0,15}$/.test(digits)) {
    throw new ParleyError("bad_structure", "a sponsor node id is server#incarnation");
  }
  const incarnation = Number(digits);
  if (!Number.isSafeInteger(incarnation)) {
    throw new ParleyError("bad_structure", "a sponsor node id's incarnation is too large");
  }
  return { server, incarnation };
}

export function isSponsorNodeId(text: string): text is NodeId {
  try {
    parseSponsorNodeId(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The server part of a node id this package made or validated at the edge
 * (so it is known to be well formed and the cheap split is enough).
 */
export function serverOfNode(id: NodeId): ServerName {
  return id.slice(0, id.lastIndexOf(separator)) as ServerName;
}
