// A server that speaks federation frames by hand on the in-process network:
// the malicious server of the refusal tests (it submits, routes and answers
// whatever a test makes up, and keeps every frame it is sent).

import {
  decodeFrame,
  encodeFrame,
  type Frame,
  type SubmitFrame,
  type SubmitResultFrame,
} from "@parley/federation";
import type { ServerName } from "@parley/protocol";
import type { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { LinkHandlers } from "../../src/federation/links/link-api.ts";
import { eventually } from "./in-process-servers.ts";

/** A server that speaks frames by hand and keeps every frame it is sent. */
export class RawServer implements LinkHandlers {
  readonly received: Array<{ peer: ServerName; frame: Frame }> = [];
  readonly links;
  #requestId = 1;

  constructor(
    network: InProcessNetwork,
    readonly name: ServerName,
  ) {
    this.links = network.join(name, this);
  }

  linkUp(): void {}
  linkDown(): void {}
  async receive(peer: ServerName, bytes: Uint8Array): Promise<void> {
    this.received.push({ peer, frame: decodeFrame(bytes) });
  }

  from(peer: ServerName): Frame[] {
    return this.received.filter((one) => one.peer === peer).map((one) => one.frame);
  }

  /** Submits to `sponsor`; answers the request id to look for. */
  async submit(
    sponsor: ServerName,
    frame: Omit<SubmitFrame, "type" | "requestId">,
  ): Promise<number> {
    const requestId = this.#requestId;
    this.#requestId += 1;
    this.links.connect(sponsor);
    await this.links.send(sponsor, encodeFrame({ type: "submit", requestId, ...frame }), "durable");
    return requestId;
  }

  /** The first answer to request `requestId` from `sponsor`, once it arrives. */
  async answer(sponsor: ServerName, requestId: number): Promise<SubmitResultFrame["outcome"]> {
    let found: SubmitResultFrame["outcome"] | undefined;
    await eventually(async () => {
      found = this.from(sponsor)
        .filter((frame): frame is SubmitResultFrame => frame.type === "submit-result")
        .find((frame) => frame.requestId === requestId)?.outcome;
      return found !== undefined;
    });
    if (found === undefined) throw new Error("no answer");
    return found;
  }
}
