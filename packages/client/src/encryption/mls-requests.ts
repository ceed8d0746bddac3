// The client API routes of encrypted rooms (docs/protocol.md §10.13) and
// KeyPackage claims (§10.12), as typed calls. Bytes travel as base64url.

import type { CertificateAnswerJson, RoomId, UserId } from "@parley/protocol";
import type { JoinRule, RoomAction } from "@parley/room";
import type { RoomApi } from "../rooms/room-api.ts";
import type { Session } from "../session.ts";

const roomPath = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;

/** The room action a commit claims (§10.13): invite, join, kick, ban, or a commit alone. */
export type CommitAction =
  | Extract<RoomAction, { type: "invite" | "join" | "kick" | "ban" }>
  | { readonly type: "mls-commit" };

export interface CommitSubmission {
  readonly clientId: string;
  readonly action: CommitAction;
  readonly epoch: number;
  readonly commit: string;
  readonly groupInfo: string;
  readonly ratchetTree: string;
  readonly welcome?: string;
}

export interface AppliedCommitJson {
  readonly epoch: number;
  readonly controlIndex: number;
  readonly commit: string;
}

export interface GroupInfoJson {
  readonly epoch: number;
  readonly controlIndex: number;
  readonly groupInfo: string;
  readonly ratchetTree: string;
}

export interface ClaimedKeyPackageJson {
  readonly userId: string;
  readonly deviceId: string;
  readonly keyPackage: string;
  readonly lastResort: boolean;
}

/** Commits fetched per page when catching up; the route allows 64. */
const commitsPageSize = 64;

export class MlsRequests {
  readonly #session: Session;
  readonly #rooms: RoomApi;

  constructor(session: Session, rooms: RoomApi) {
    this.#session = session;
    this.#rooms = rooms;
  }

  roomIdFor(clientId: string): Promise<{ roomId: RoomId; groupId: string }> {
    return this.#rooms.idempotent(() =>
      this.#session.request<{ roomId: RoomId; groupId: string }>("POST", "/rooms/room-id", {
        clientId,
      }),
    );
  }

  createRoom(body: {
    readonly clientId: string;
    readonly name: string;
    readonly topic: string;
    readonly contentType: string;
    readonly joinRule: JoinRule;
    readonly groupInfo: string;
    readonly ratchetTree: string;
  }): Promise<{ roomId: RoomId; logIndex: number }> {
    const { groupInfo, ratchetTree, ...room } = body;
    return this.#rooms.idempotent(() =>
      this.#session.request<{ roomId: RoomId; logIndex: number }>("POST", "/rooms", {
        ...room,
        kind: "encrypted",
        mls: { groupInfo, ratchetTree },
      }),
    );
  }

  /** Submits a commit; retried with the same client id when no answer came. */
  submitCommit(
    roomId: RoomId,
    submission: CommitSubmission,
  ): Promise<{ logIndex: number; epoch: number }> {
    return this.#rooms.idempotent(() =>
      this.#session.request<{ logIndex: number; epoch: number }>(
        "POST",
        `${roomPath(roomId)}/mls/commits`,
        submission,
      ),
    );
  }

  /** Every applied commit made in epoch `from` or later, ascending (bounded by `pagesMax` pages). */
  async commitsFrom(roomId: RoomId, from: number, pagesMax = 64): Promise<AppliedCommitJson[]> {
    const commits: AppliedCommitJson[] = [];
    let next = from;
    for (let page = 0; page < pagesMax; page += 1) {
      const answer = await this.#session.request<{
        commits: AppliedCommitJson[];
        more: boolean;
      }>("GET", `${roomPath(roomId)}/mls/commits?from=${next}&limit=${commitsPageSize}`);
      commits.push(...answer.commits);
      const last = answer.commits.at(-1);
      if (!answer.more || last === undefined) break;
      next = last.epoch + 1;
    }
    return commits;
  }

  /** The newest certificate with the control records from `from` (§10.3); `unavailable` until one covers it. */
  certificate(roomId: RoomId, from: number): Promise<CertificateAnswerJson> {
    return this.#session.request<CertificateAnswerJson>(
      "GET",
      `${roomPath(roomId)}/certificate?from=${from}`,
    );
  }

  groupInfo(roomId: RoomId, via: readonly string[] = []): Promise<GroupInfoJson> {
    const suffix = via.length === 0 ? "" : `?via=${encodeURIComponent(via.join(","))}`;
    return this.#session.request<GroupInfoJson>(
      "GET",
      `${roomPath(roomId)}/mls/group-info${suffix}`,
    );
  }

  /** One KeyPackage per live device of each user (spends one-time packages). */
  async claimKeyPackages(users: readonly UserId[]): Promise<{
    packages: readonly ClaimedKeyPackageJson[];
    failures: ReadonlyArray<{ userId: string; code: string; message: string }>;
  }> {
    return this.#session.request("POST", "/key-packages/claim", { users });
  }
}
