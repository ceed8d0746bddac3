import type { RoomId, ServerName } from "@parley/protocol";
import type { HeartbeatMessage, HeartbeatResponseMessage } from "@parley/raft";
import type { HeartbeatFrame, HeartbeatItem, HeartbeatResponseItem } from "../frames/frame.ts";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { heartbeatsPerFrameMax } from "../limits.ts";

/**
 * Heartbeat coalescing (CockroachDB's coalesced heartbeats): every heartbeat
 * and heartbeat response one server's groups send another in one processing
 * round travels in one frame, however many rooms the two share. On the wire
 * a heartbeat is a 7-tuple with node ids cut down to incarnations, since the
 * link already names both servers.
 */
export class HeartbeatBatch {
  readonly heartbeats: HeartbeatItem[] = [];
  readonly responses: HeartbeatResponseItem[] = [];

  add(room: RoomId, message: HeartbeatMessage | HeartbeatResponseMessage): void {
    const fromIncarnation = incarnationOfNode(message.from);
    const toIncarnation = incarnationOfNode(message.to);
    if (message.type === "heartbeat") {
      this.heartbeats.push({
        room,
        fromIncarnation,
        toIncarnation,
        term: message.term,
        commit: message.commit,
        readRound: message.readRound,
        quiesce: message.quiesce,
      });
    } else {
      this.responses.push({
        room,
        fromIncarnation,
        toIncarnation,
        term: message.term,
        readRound: message.readRound,
      });
    }
  }

  get isEmpty(): boolean {
    return this.heartbeats.length === 0 && this.responses.length === 0;
  }

  /** The frames to send: none when empty, one unless more than `heartbeatsPerFrameMax` items of a kind. */
  frames(): HeartbeatFrame[] {
    const frames: HeartbeatFrame[] = [];
    const count = Math.max(this.heartbeats.length, this.responses.length);
    for (let start = 0; start < count; start += heartbeatsPerFrameMax) {
      frames.push({
        type: "heartbeats",
        heartbeats: this.heartbeats.slice(start, start + heartbeatsPerFrameMax),
        responses: this.responses.slice(start, start + heartbeatsPerFrameMax),
      });
    }
    return frames;
  }
}

/** Expands a received heartbeat frame into the Raft messages it stands for. */
export function expandHeartbeats(
  frame: HeartbeatFrame,
  peer: ServerName,
  self: ServerName,
): Array<{ readonly room: RoomId; readonly message: HeartbeatMessage | HeartbeatResponseMessage }> {
  const expanded: Array<{
    readonly room: RoomId;
    readonly message: HeartbeatMessage | HeartbeatResponseMessage;
  }> = [];
  for (const beat of frame.heartbeats) {
    expanded.push({
      room: beat.room,
      message: {
        type: "heartbeat",
        from: sponsorNodeId(peer, beat.fromIncarnation),
        to: sponsorNodeId(self, beat.toIncarnation),
        term: beat.term,
        commit: beat.commit,
        readRound: beat.readRound,
        quiesce: beat.quiesce,
      },
    });
  }
  for (const response of frame.responses) {
    expanded.push({
      room: response.room,
      message: {
        type: "heartbeatResponse",
        from: sponsorNodeId(peer, response.fromIncarnation),
        to: sponsorNodeId(self, response.toIncarnation),
        term: response.term,
        readRound: response.readRound,
      },
    });
  }
  return expanded;
}

/** The incarnation of a node id this package made or validated. */
export function incarnationOfNode(id: string): number {
  return Number(id.slice(id.lastIndexOf("#") + 1));
}
