// Peers that misbehave after (or instead of) a handshake: garbage gets a
// coded error frame and a close with the code's close code, the sender is
// refused for a while, and a well-behaved peer on the same server is not
// disturbed; a silent link is declared down.

import { errorCodeEntry } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { LinkLimits } from "../../src/federation/links/limits.ts";
import { keyOf, LinkEndpoint } from "./link-endpoint.ts";
import { handshakeAs, hostDocument, RawPeer } from "./raw-peer.ts";
import { frameOf, waitUntil } from "./recording-handlers.ts";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function endpoint(label: string, limits: Partial<LinkLimits> = {}): Promise<LinkEndpoint> {
  const created = await LinkEndpoint.create(label);
  cleanups.push(() => created.destroy());
  return created.start({ limits });
}

async function mallory(label = "mallory") {
  const keyPair = keyOf(label);
  const host = await hostDocument(keyPair);
  cleanups.push(() => host.close());
  return { name: host.name, keyPair };
}

async function rawPeer(target: LinkEndpoint, options = { autoPong: true }): Promise<RawPeer> {
  const peer = await RawPeer.connect(target.name, options);
  cleanups.push(async () => peer.close());
  return peer;
}

describe("hostile peers", () => {
  it("closes a peer that sends garbage, refuses it for a while, and keeps serving the others", async () => {
    const alpha = await endpoint("alpha");
    const beta = await endpoint("beta");
    const identity = await mallory();
    alpha.requireLinks().connect(beta.name);
    await waitUntil("alpha is up", () => alpha.requireLinks().isUp(beta.name));

    const attacker = await rawPeer(beta);
    expect((await handshakeAs(attacker, identity, beta.name)).answer.kind).toBe("ready");
    attacker.sendBytes(Uint8Array.of(0x55, 1, 2, 3));
    expect(await attacker.next()).toMatchObject({ kind: "error", code: "bad_structure" });
    expect((await attacker.closed).code).toBe(errorCodeEntry("bad_structure").closeCode);

    const again = await rawPeer(beta);
    const refused = await handshakeAs(again, identity, beta.name);
    expect(refused.answer).toMatchObject({ kind: "error", code: "rate_limited" });
    expect((await again.closed).code).toBe(errorCodeEntry("rate_limited").closeCode);

    for (let index = 0; index < 20; index += 1) {
      await alpha.requireLinks().send(beta.name, frameOf(`fine-${index}`), "durable");
    }
    await waitUntil("alpha's frames arrive", () => beta.handlers.received.length === 20);
    expect(beta.handlers.events.filter((event) => event.endsWith(alpha.name))).toEqual([
      `up ${alpha.name}`,
    ]);
    expect(beta.handlers.received.some((frame) => frame.peer === identity.name)).toBe(false);
  });

  it("answers garbage before any handshake with a coded error", async () => {
    const beta = await endpoint("beta");
    const stranger = await rawPeer(beta);
    stranger.sendBytes(Uint8Array.of(0x01, 0xff, 0x00));
    expect(await stranger.next()).toMatchObject({ kind: "error", code: "bad_encoding" });
    expect((await stranger.closed).code).toBe(errorCodeEntry("bad_encoding").closeCode);
    const texter = await rawPeer(beta);
    texter.socket.send("hello, I am text");
    expect(await texter.next()).toMatchObject({ kind: "error", code: "bad_structure" });
  });

  it("refuses a data frame larger than the payload limit with payload_too_large", async () => {
    const beta = await endpoint("beta", { payloadBytesMax: 1024 });
    const identity = await mallory();
    const attacker = await rawPeer(beta);
    expect((await handshakeAs(attacker, identity, beta.name)).answer.kind).toBe("ready");
    attacker.send({ kind: "durable", sequence: 1, payload: new Uint8Array(1025) });
    expect(await attacker.next()).toMatchObject({ kind: "error", code: "payload_too_large" });
    expect((await attacker.closed).code).toBe(errorCodeEntry("payload_too_large").closeCode);
  });

  it("refuses a durable frame that skips sequences, and an acknowledgement of frames never sent", async () => {
    const beta = await endpoint("beta");
    const identity = await mallory();
    const skipper = await rawPeer(beta);
    expect((await handshakeAs(skipper, identity, beta.name)).answer.kind).toBe("ready");
    skipper.send({ kind: "durable", sequence: 5, payload: frameOf("out of nowhere") });
    expect(await skipper.next()).toMatchObject({ kind: "error", code: "bad_structure" });
    expect(beta.handlers.received).toEqual([]);
    const boaster = await rawPeer(beta);
    const eve = await mallory("eve");
    expect((await handshakeAs(boaster, eve, beta.name)).answer.kind).toBe("ready");
    boaster.send({ kind: "acknowledge", sequence: 3 });
    expect(await boaster.next()).toMatchObject({ kind: "error", code: "bad_structure" });
  });

  it("declares a link down when the peer stops answering pings", async () => {
    const beta = await endpoint("beta");
    const identity = await mallory();
    const silent = await rawPeer(beta, { autoPong: false });
    expect((await handshakeAs(silent, identity, beta.name)).answer.kind).toBe("ready");
    await waitUntil("up", () => beta.requireLinks().isUp(identity.name));
    await waitUntil(
      "declared down",
      () => beta.handlers.events.includes(`down ${identity.name}`),
      10_000,
    );
    expect(beta.requireLinks().isUp(identity.name)).toBe(false);
  });

  it("delivers durable frames from a hand-made peer once each, and acknowledges them", async () => {
    const beta = await endpoint("beta");
    const identity = await mallory();
    const peer = await rawPeer(beta);
    expect((await handshakeAs(peer, identity, beta.name)).answer.kind).toBe("ready");
    peer.send({ kind: "durable", sequence: 1, payload: frameOf("one") });
    peer.send({ kind: "durable", sequence: 1, payload: frameOf("one again") });
    peer.send({ kind: "durable", sequence: 2, payload: frameOf("two") });
    await waitUntil("both arrived", () => beta.handlers.received.length === 2);
    let acknowledged = 0;
    for (let attempt = 0; attempt < 10 && acknowledged < 2; attempt += 1) {
      const frame = await peer.next();
      if (frame.kind === "acknowledge") acknowledged = Math.max(acknowledged, frame.sequence);
    }
    expect(acknowledged).toBe(2);
    expect(beta.handlers.textsFrom(identity.name)).toEqual(["one", "two"]);
  });
});
