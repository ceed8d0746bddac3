// The people of the five-process test: one SDK client per homeserver, each
// sending a bounded stream of messages (one at a time, so a sender's order
// is its send order) and recording what it got acknowledged and what its
// live stream delivered, by client id.

import { ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { ParleyError, type RoomId } from "@parley/protocol";
import { type HomeserverProcess, pollUntil } from "@parley/server/testing";

const password = "correct horse battery staple";
/** How long an invited user's server may take to learn of the room. */
const inviteWaitMs = 60_000;

/** A message as a server holds it: who sent it, and the sponsor's stamp. */
export interface HeldMessage {
  /** `sender clientId`. */
  readonly key: string;
  readonly controlIndex: number;
  readonly acceptedAtMs: number;
}

export class RoomUser {
  readonly client: ParleyClient;
  readonly label: string;
  /** Client ids of this user's messages the server acknowledged, in send order. */
  readonly acknowledged: string[] = [];
  /** Messages that never got an acknowledgement (their fate is unknown to the sender). */
  unacknowledged = 0;
  /** Per `sender clientId`: how often the live stream delivered it. */
  readonly received = new Map<string, number>();
  /** Gaps the stream reported (there must be none). */
  missed = 0;
  #sending: Promise<void> | null = null;
  #stopSending = false;

  private constructor(client: ParleyClient, label: string) {
    this.client = client;
    this.label = label;
    client.on("message", (event) => {
      const key = `${event.sender} ${event.clientId}`;
      this.received.set(key, (this.received.get(key) ?? 0) + 1);
    });
    client.on("missed", () => {
      this.missed += 1;
    });
  }

  static async register(server: HomeserverProcess, label: string): Promise<RoomUser> {
    const client = await ParleyClient.register(
      { baseUrl: server.url, serverName: server.serverName, userName: label, password },
      nodeClientOptions(),
    );
    const user = new RoomUser(client, label);
    await client.start();
    return user;
  }

  /** The key under which every client records one of this user's messages. */
  keyOf(clientId: string): string {
    return `${this.client.userId} ${clientId}`;
  }

  /** Joins once this user's server has learnt of the invitation (bounded). */
  async joinWhenInvited(roomId: RoomId): Promise<void> {
    await pollUntil(`${this.label} joins`, inviteWaitMs, async () => {
      try {
        await this.client.join(roomId);
        return true;
      } catch (error) {
        const waiting =
          error instanceof ParleyError &&
          (error.code === "not_found" || error.code === "unavailable");
        if (waiting) return undefined;
        throw error;
      }
    });
  }

  /** Sends one message every `intervalMs` (waiting for each answer) until stopped or `messagesMax`. */
  startSending(roomId: RoomId, intervalMs: number, messagesMax: number): void {
    this.#stopSending = false;
    this.#sending = (async () => {
      for (let number = 0; number < messagesMax && !this.#stopSending; number += 1) {
        const clientId = `${this.label}-${number}`;
        const outgoing = await this.client.send(roomId, `${this.label} says ${number}`, {
          clientId,
        });
        const settled = await outgoing.settled();
        if (settled.status === "accepted" || settled.status === "delivered") {
          this.acknowledged.push(clientId);
        } else {
          this.unacknowledged += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  async stopSending(): Promise<void> {
    this.#stopSending = true;
    await this.#sending;
  }

  /** Every message of the room in this user's server's history, in history order. */
  async history(roomId: RoomId): Promise<HeldMessage[]> {
    const keys: HeldMessage[] = [];
    let from: string | undefined;
    // Bounded: a page holds up to 1000 events; the test sends far fewer than 100 pages.
    for (let page = 0; page < 100; page += 1) {
      const answer = await this.client.history(roomId, {
        direction: "forward",
        limit: 1000,
        ...(from === undefined ? {} : { from }),
      });
      for (const event of answer.events) {
        if (event.type === "message") {
          keys.push({
            key: `${event.sender} ${event.clientId}`,
            controlIndex: event.controlIndex,
            acceptedAtMs: event.acceptedAtMs,
          });
        }
      }
      if (!answer.more || answer.next === null) return keys;
      from = answer.next;
    }
    throw new Error("history longer than the test can have written");
  }
}
