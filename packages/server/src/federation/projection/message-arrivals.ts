// Waiting for a message to reach this server's stream. A sponsor stores a
// message before it answers its sender, but on a leaf the sponsor's answer
// and the routed message are two frames: the HTTP answer (which names the
// event's stream position) waits here until the projection has stored the
// message, within a time limit.

import type { AppendOutcome } from "../../storage/records.ts";

type Waiter = (outcome: AppendOutcome) => void;

export class MessageArrivals {
  readonly #waiters = new Map<string, Waiter[]>();

  /** Starts listening for (room, device, client id); call `stop` when done. */
  expect(
    room: string,
    deviceId: string,
    clientId: string,
  ): { arrived: Promise<AppendOutcome>; stop(): void } {
    const key = arrivalKey(room, deviceId, clientId);
    let waiter: Waiter = () => {};
    const arrived = new Promise<AppendOutcome>((resolve) => {
      waiter = resolve;
    });
    const list = this.#waiters.get(key) ?? [];
    list.push(waiter);
    this.#waiters.set(key, list);
    return {
      arrived,
      stop: () => {
        const current = this.#waiters.get(key);
        if (current === undefined) return;
        const rest = current.filter((candidate) => candidate !== waiter);
        if (rest.length === 0) this.#waiters.delete(key);
        else this.#waiters.set(key, rest);
      },
    };
  }

  arrived(room: string, deviceId: string, clientId: string, outcome: AppendOutcome): void {
    const key = arrivalKey(room, deviceId, clientId);
    const list = this.#waiters.get(key);
    if (list === undefined) return;
    this.#waiters.delete(key);
    for (const waiter of list) waiter(outcome);
  }
}

function arrivalKey(room: string, deviceId: string, clientId: string): string {
  return JSON.stringify([room, deviceId, clientId]);
}
