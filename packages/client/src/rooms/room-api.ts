// Rooms over the client API (docs/protocol.md §10.3–10.5): create, act,
// list, read state, members and history. Every state change carries a
// client-chosen id, so the bounded automatic retries after a lost answer are
// answered with the first outcome instead of acting twice.

import type {
  HistoryPageJson,
  OrderedHistoryPageJson,
  ParleyError,
  RoomId,
  UserId,
} from "@parley/protocol";
import type { JoinRule, Membership, Role, RoomAction } from "@parley/room";
import { isTransient } from "../errors.ts";
import type { Session } from "../session.ts";
import { type BackoffPolicy, backoffDelayMs } from "../stream/backoff.ts";
import type { MembersPageJson, RoomListJson, RoomStateJson } from "../wire.ts";

/** A room this user is in, invited to, or knocking at. */
export interface RoomSummary {
  readonly roomId: RoomId;
  readonly membership: "joined" | "invited" | "knocking";
  /** The control index at which this membership began. */
  readonly sinceIndex: number;
}

/** The applied state of a room, as the server shows it to a member. */
export type RoomState = Omit<RoomStateJson, "roomId"> & { readonly roomId: RoomId };

export interface Member {
  readonly userId: UserId;
  readonly membership: Membership;
  readonly role: Role;
  readonly sinceIndex: number;
}

export interface MembersPage {
  readonly members: readonly Member[];
  readonly more: boolean;
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

export interface CreateRoomInput {
  readonly name: string;
  readonly topic?: string;
  /** Fixed for the room's life. Default `text/plain`. */
  readonly contentType?: string;
  /** Default `invite`. */
  readonly joinRule?: JoinRule;
  /** `encrypted`: an MLS group is created with the room and messages are end-to-end encrypted. Default `plain`. */
  readonly kind?: "plain" | "encrypted";
  /** Chosen by the SDK when absent; the same id makes a retry return the same room. */
  readonly clientId?: string;
}

/** A page of history in history order (§10.4 `/history`), the order every server converges on. */
export interface HistoryQuery {
  /** A page's `next` cursor: `backward` reads before it, `forward` after it. Default: the newest / the first. */
  readonly from?: string;
  /** Default `backward` (newest first). */
  readonly direction?: "backward" | "forward";
  /** 1 to 1000; default 50. */
  readonly limit?: number;
}

/** A page of this server's arrival order (§10.4 `/messages`), for filling gaps by room sequence. */
export interface ArrivalQuery {
  /** A room sequence: `backward` reads below it, `forward` above it. Default: the newest / the first. */
  readonly from?: number;
  /** Default `backward` (newest first). */
  readonly direction?: "backward" | "forward";
  /** 1 to 1000; default 50. */
  readonly limit?: number;
}

/** Actions a user sends (creation has its own call; sponsor changes are for servers). */
export type UserRoomAction = Exclude<
  RoomAction,
  { type: "create" } | { type: "add-sponsor" } | { type: "remove-sponsor" }
>;

export interface RoomApiDependencies {
  readonly session: Session;
  readonly newClientId: () => string;
  readonly backoff: BackoffPolicy;
  /** Requests per call when there is no answer or the server is busy. */
  readonly attemptsMax: number;
  readonly random: () => number;
}

/** Members read per page; the route's maximum. */
const membersPageMax = 1000;
/** Pages read for one room: the room member limit is far below this many pages' worth. */
const membersPagesMax = 100;

/** Every member of a room, page after page. */
export async function allMembers(rooms: RoomApi, roomId: RoomId): Promise<Member[]> {
  const members: Member[] = [];
  let after: string | undefined;
  for (let page = 0; page < membersPagesMax; page += 1) {
    const answer = await rooms.members(roomId, {
      limit: membersPageMax,
      ...(after === undefined ? {} : { after }),
    });
    members.push(...answer.members);
    if (!answer.more || answer.next === null) break;
    after = answer.next;
  }
  return members;
}

const roomPath = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;

export class RoomApi {
  readonly #dependencies: RoomApiDependencies;

  constructor(dependencies: RoomApiDependencies) {
    this.#dependencies = dependencies;
  }

  createRoom(input: CreateRoomInput): Promise<{ roomId: RoomId; logIndex: number }> {
    const body = {
      clientId: input.clientId ?? this.#dependencies.newClientId(),
      name: input.name,
      topic: input.topic ?? "",
      contentType: input.contentType ?? "text/plain",
      joinRule: input.joinRule ?? "invite",
    };
    return this.idempotent(() =>
      this.#dependencies.session.request<{ roomId: RoomId; logIndex: number }>(
        "POST",
        "/rooms",
        body,
      ),
    );
  }

  /**
   * Proposes an action. `via` (at most 8 server names) is for a room this
   * server does not know yet, typically joining another server's open room
   * (§10.3): the server follows the room through them first.
   */
  act(
    roomId: RoomId,
    action: UserRoomAction,
    options: { readonly clientId?: string; readonly via?: readonly string[] } = {},
  ): Promise<{ logIndex: number }> {
    const clientId = options.clientId ?? this.#dependencies.newClientId();
    const via = options.via ?? [];
    const body = via.length === 0 ? { clientId, action } : { clientId, action, via };
    return this.idempotent(() =>
      this.#dependencies.session.request<{ logIndex: number }>(
        "POST",
        `${roomPath(roomId)}/actions`,
        body,
      ),
    );
  }

  async rooms(): Promise<RoomSummary[]> {
    const list = await this.#dependencies.session.request<RoomListJson>("GET", "/rooms");
    return list.rooms.map((room) => ({ ...room, roomId: room.roomId as RoomId }));
  }

  async state(roomId: RoomId): Promise<RoomState> {
    const state = await this.#dependencies.session.request<RoomStateJson>("GET", roomPath(roomId));
    return { ...state, roomId: state.roomId as RoomId };
  }

  async members(
    roomId: RoomId,
    page: { after?: string; limit?: number } = {},
  ): Promise<MembersPage> {
    const query = new URLSearchParams();
    if (page.after !== undefined) query.set("after", page.after);
    if (page.limit !== undefined) query.set("limit", String(page.limit));
    const suffix = query.size === 0 ? "" : `?${query.toString()}`;
    const answer = await this.#dependencies.session.request<MembersPageJson>(
      "GET",
      `${roomPath(roomId)}/members${suffix}`,
    );
    return {
      members: answer.members.map((member) => ({ ...member, userId: member.userId as UserId })),
      more: answer.more,
      next: answer.next,
    };
  }

  /** History order (`/history`). */
  history(roomId: RoomId, query: HistoryQuery = {}): Promise<OrderedHistoryPageJson> {
    return this.#dependencies.session.request<OrderedHistoryPageJson>(
      "GET",
      `${roomPath(roomId)}/history${pageSuffix(query)}`,
    );
  }

  /** This server's arrival order (`/messages`). */
  arrivals(roomId: RoomId, query: ArrivalQuery = {}): Promise<HistoryPageJson> {
    return this.#dependencies.session.request<HistoryPageJson>(
      "GET",
      `${roomPath(roomId)}/messages${pageSuffix(query)}`,
    );
  }

  /** Repeats a request that carries a client id while the failure is transient, boundedly. */
  /** Calls `call` again after transient failures (bounded); only for requests safe to repeat. */
  async idempotent<Result>(call: () => Promise<Result>): Promise<Result> {
    const { attemptsMax, backoff, random } = this.#dependencies;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error) || attempt >= attemptsMax) throw error;
        const retryAfterMs = (error as ParleyError).retryAfterMs;
        const delayMs = retryAfterMs ?? backoffDelayMs(backoff, attempt, random());
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/** The query string of a history page request, empty when every field is absent. */
function pageSuffix(query: HistoryQuery | ArrivalQuery): string {
  const parameters = new URLSearchParams();
  if (query.from !== undefined) parameters.set("from", String(query.from));
  if (query.direction !== undefined) parameters.set("direction", query.direction);
  if (query.limit !== undefined) parameters.set("limit", String(query.limit));
  return parameters.size === 0 ? "" : `?${parameters.toString()}`;
}
