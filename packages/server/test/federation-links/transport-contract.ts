// The one suite every implementation of the link contract (link-api.ts)
// passes: the real WebSocket links and the in-process network. A harness
// starts named servers whose durable state outlives `stop`, as a database does.

import { isParleyError, parseServerName, type ServerName } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { FederationLinks } from "../../src/federation/links/link-api.ts";
import { frameOf, RecordingHandlers, waitUntil } from "./recording-handlers.ts";

export interface ContractServer {
  readonly name: ServerName;
  readonly links: FederationLinks;
  readonly handlers: RecordingHandlers;
}

export interface TransportHarness {
  /** Starts a server, or starts it again with the durable state it had. */
  start(label: string, handlers?: RecordingHandlers): Promise<ContractServer>;
  /** Stops a server (its links go down); its durable state stays. */
  stop(server: ContractServer): Promise<void>;
  /** Stops everything and discards the state. */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** The per-peer queue bound (frames) the harness configures. */
  readonly queueFramesMax: number;
  readonly createHarness: () => Promise<TransportHarness>;
}

function texts(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

export function describeTransportContract(name: string, options: ContractOptions): void {
  describe(`link contract: ${name}`, () => {
    let harness: TransportHarness | undefined;
    async function open(): Promise<TransportHarness> {
      harness = await options.createHarness();
      return harness;
    }
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    it("brings a link up on both sides when one side connects", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const beta = await network.start("beta");
      alpha.links.connect(beta.name);
      await waitUntil(
        "both sides are up",
        () => alpha.links.isUp(beta.name) && beta.links.isUp(alpha.name),
      );
      await waitUntil(
        "both handlers heard",
        () => alpha.handlers.events.length > 0 && beta.handlers.events.length > 0,
      );
      expect(alpha.handlers.events).toEqual([`up ${beta.name}`]);
      expect(beta.handlers.events).toEqual([`up ${alpha.name}`]);
    });

    it("delivers durable frames in order, each once", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const beta = await network.start("beta");
      const sent = texts("m", 50);
      await Promise.all(sent.map((text) => alpha.links.send(beta.name, frameOf(text), "durable")));
      await waitUntil("all arrived", () => beta.handlers.received.length >= sent.length);
      expect(beta.handlers.textsFrom(alpha.name)).toEqual(sent);
    });

    it("delivers frames queued while the peer was away, once and in order, after it returns", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      let beta = await network.start("beta");
      alpha.links.connect(beta.name);
      await waitUntil("up", () => alpha.links.isUp(beta.name));
      await alpha.links.send(beta.name, frameOf("before"), "durable");
      await waitUntil("first arrived", () => beta.handlers.received.length === 1);
      await network.stop(beta);
      await waitUntil("down", () => !alpha.links.isUp(beta.name));
      const queued = texts("away", 50);
      for (const text of queued) await alpha.links.send(beta.name, frameOf(text), "durable");
      beta = await network.start("beta");
      await waitUntil("queued arrived", () => beta.handlers.received.length >= queued.length);
      // Give a duplicate the chance to show up before checking there is none.
      await alpha.links.send(beta.name, frameOf("after"), "durable");
      await waitUntil("last arrived", () => beta.handlers.received.length >= queued.length + 1);
      expect(beta.handlers.textsFrom(alpha.name)).toEqual([...queued, "after"]);
    });

    it("keeps queued frames across the sender's own restart", async () => {
      const network = await open();
      let alpha = await network.start("alpha");
      let beta = await network.start("beta");
      await network.stop(beta);
      const queued = texts("kept", 20);
      for (const text of queued) await alpha.links.send(beta.name, frameOf(text), "durable");
      await network.stop(alpha);
      beta = await network.start("beta");
      alpha = await network.start("alpha");
      await waitUntil("queued arrived", () => beta.handlers.received.length >= queued.length);
      expect(beta.handlers.textsFrom(alpha.name)).toEqual(queued);
    });

    it("acknowledges a frame only after the receiver's handler resolved", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const hanging = new RecordingHandlers();
      hanging.behaviour = () => "hang";
      let beta = await network.start("beta", hanging);
      await alpha.links.send(beta.name, frameOf("one"), "durable");
      await alpha.links.send(beta.name, frameOf("two"), "durable");
      await waitUntil("up", () => alpha.links.isUp(beta.name));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await network.stop(beta);
      beta = await network.start("beta");
      await waitUntil("redelivered", () => beta.handlers.received.length >= 2);
      expect(beta.handlers.textsFrom(alpha.name)).toEqual(["one", "two"]);
    });

    it("delivers a frame again after the handler refused it, keeping the order", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const beta = await network.start("beta");
      let refusals = 0;
      beta.handlers.behaviour = (text) => {
        if (text === "m-5" && refusals < 1) {
          refusals += 1;
          return "fail";
        }
        return "accept";
      };
      const sent = texts("m", 10);
      for (const text of sent) await alpha.links.send(beta.name, frameOf(text), "durable");
      await waitUntil(
        "every frame was accepted",
        () => new Set(beta.handlers.textsFrom(alpha.name)).size === sent.length,
        20_000,
      );
      const seen = beta.handlers.textsFrom(alpha.name);
      // Frames after the refused one may have been handed over before the reset;
      // what matters: all arrive, in order, and the refused one is not skipped.
      expect(seen.slice(0, 5)).toEqual(sent.slice(0, 5));
      expect(new Set(seen)).toEqual(new Set(sent));
      expect(seen.indexOf("m-5")).toBeGreaterThan(seen.indexOf("m-4"));
    });

    it("sends best-effort frames only while the link is up", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const beta = await network.start("beta");
      await alpha.links.send(beta.name, frameOf("lost"), "best-effort");
      alpha.links.connect(beta.name);
      await waitUntil("up", () => alpha.links.isUp(beta.name) && beta.links.isUp(alpha.name));
      await alpha.links.send(beta.name, frameOf("seen"), "best-effort");
      await waitUntil("arrived", () => beta.handlers.received.length >= 1);
      expect(beta.handlers.textsFrom(alpha.name)).toEqual(["seen"]);
    });

    it("refuses durable frames beyond the queue bound with capacity_exceeded", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const absent = parseServerName("absent.invalid");
      for (let index = 0; index < options.queueFramesMax; index += 1) {
        await alpha.links.send(absent, frameOf(`q-${index}`), "durable");
      }
      const refusal = await alpha.links.send(absent, frameOf("one too many"), "durable").then(
        () => null,
        (error: unknown) => error,
      );
      expect(isParleyError(refusal, "capacity_exceeded")).toBe(true);
    });

    it("reports the link down to the survivor when a peer stops", async () => {
      const network = await open();
      const alpha = await network.start("alpha");
      const beta = await network.start("beta");
      alpha.links.connect(beta.name);
      await waitUntil("up", () => alpha.links.isUp(beta.name));
      await network.stop(beta);
      await waitUntil("down", () => alpha.handlers.events.includes(`down ${beta.name}`));
      expect(alpha.links.isUp(beta.name)).toBe(false);
    });
  });
}
