// Link handlers that record what they are told, with a switch to make the
// next receives fail or hang, and a bounded wait for a condition.

import type { ServerName } from "@parley/protocol";
import type { LinkHandlers } from "../../src/federation/links/link-api.ts";

export interface ReceivedFrame {
  readonly peer: ServerName;
  readonly text: string;
}

export type ReceiveBehaviour = "accept" | "fail" | "hang";

export class RecordingHandlers implements LinkHandlers {
  readonly received: ReceivedFrame[] = [];
  readonly events: string[] = [];
  /** Decides each receive: accept it, reject it (the link must redeliver), or never answer. */
  behaviour: (text: string) => ReceiveBehaviour = () => "accept";

  linkUp(peer: ServerName): void {
    this.events.push(`up ${peer}`);
  }

  linkDown(peer: ServerName): void {
    this.events.push(`down ${peer}`);
  }

  receive(peer: ServerName, bytes: Uint8Array): Promise<void> {
    const text = new TextDecoder().decode(bytes);
    const behaviour = this.behaviour(text);
    if (behaviour === "fail") return Promise.reject(new Error(`refusing ${text}`));
    if (behaviour === "hang") return new Promise(() => {});
    this.received.push({ peer, text });
    return Promise.resolve();
  }

  textsFrom(peer: ServerName): string[] {
    return this.received.filter((frame) => frame.peer === peer).map((frame) => frame.text);
  }
}

export function frameOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Polls `condition` every 5 ms; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
