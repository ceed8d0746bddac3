// One room's federation as this server sees it, for the operator (admin API,
// §10.11 `GET /rooms/{roomId}/federation`): whether this server sponsors the
// room, the committed sponsor set, how far its replica has applied, and — on
// a sponsor — its Raft node's role and the leader it knows. Read between
// rounds of the driver, so it is a consistent snapshot of the core.

import { type FederationHost, parseSponsorNodeId } from "@parley/federation";
import type { RoomId, ServerName } from "@parley/protocol";

export interface RoomFederationStatus {
  readonly roomId: RoomId;
  readonly role: "sponsor" | "leaf";
  readonly sponsors: readonly ServerName[];
  readonly appliedIndex: number;
  /** Sponsors only: this server's Raft node, and the server it knows as leader (null: none known). */
  readonly raft: { readonly role: string; readonly leader: ServerName | null } | null;
  /** Leaves only: the sponsor this server is attached to (null: none yet). */
  readonly attachedTo: ServerName | null;
}

/** The room's status, or undefined when this server takes no part in it. */
export function roomFederationStatus(
  host: FederationHost,
  roomId: RoomId,
): RoomFederationStatus | undefined {
  const session = host.session(roomId);
  if (session === undefined) return undefined;
  const group = session.group;
  return {
    roomId,
    role: group === undefined ? "leaf" : "sponsor",
    sponsors: [...session.replica.sponsors],
    appliedIndex: session.replica.appliedIndex,
    raft:
      group === undefined
        ? null
        : {
            role: group.role,
            leader: group.lead === null ? null : parseSponsorNodeId(group.lead).server,
          },
    attachedTo: group === undefined ? session.attachment.sponsor : null,
  };
}
