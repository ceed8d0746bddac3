// The handshake against a server acting maliciously, by hand: replayed,
// wrongly signed, stale, misaddressed and unknown handshakes are refused with
// their codes; two servers dialling each other keep one link.

import { errorCodeEntry, parseServerName } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type EndpointOptions, keyOf, LinkEndpoint } from "./link-endpoint.ts";
import { type DocumentHost, handshakeAs, hostDocument, RawPeer } from "./raw-peer.ts";
import { frameOf, waitUntil } from "./recording-handlers.ts";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function endpoint(label: string, options: EndpointOptions = {}): Promise<LinkEndpoint> {
  const created = await LinkEndpoint.create(label);
  cleanups.push(() => created.destroy());
  return created.start(options);
}

async function documentHost(label: string): Promise<{
  host: DocumentHost;
  identity: { name: ReturnType<typeof parseServerName>; keyPair: ReturnType<typeof keyOf> };
}> {
  const keyPair = keyOf(label);
  const host = await hostDocument(keyPair);
  cleanups.push(() => host.close());
  return { host, identity: { name: host.name, keyPair } };
}

async function rawPeer(target: LinkEndpoint): Promise<RawPeer> {
  const peer = await RawPeer.connect(target.name);
  cleanups.push(async () => peer.close());
  return peer;
}

function closeCodeOf(code: Parameters<typeof errorCodeEntry>[0]): number {
  return errorCodeEntry(code).closeCode;
}

describe("link handshake", () => {
  it("authenticates a server that dials, whichever side dials", async () => {
    const alpha = await endpoint("alpha");
    const beta = await endpoint("beta");
    beta.requireLinks().connect(alpha.name);
    await waitUntil(
      "up",
      () => alpha.requireLinks().isUp(beta.name) && beta.requireLinks().isUp(alpha.name),
    );
    const metrics = await alpha.metrics?.registry.getSingleMetricAsString(
      "parley_federation_links_up",
    );
    expect(metrics).toContain("parley_federation_links_up 1");
  });

  it("refuses a recorded handshake replayed on a new connection", async () => {
    const beta = await endpoint("beta");
    const { identity } = await documentHost("mallory");
    const first = await rawPeer(beta);
    const recorded = await handshakeAs(first, identity, beta.name);
    expect(recorded.answer.kind).toBe("ready");
    first.close();
    const replay = await rawPeer(beta);
    replay.sendBytes(recorded.hello);
    expect((await replay.next()).kind).toBe("accept");
    if (recorded.confirm === null) throw new Error("no confirm recorded");
    replay.sendBytes(recorded.confirm);
    expect(await replay.next()).toMatchObject({ kind: "error", code: "signature_invalid" });
    expect((await replay.closed).code).toBe(closeCodeOf("signature_invalid"));
  });

  it("refuses a handshake signed with a key the server's document does not list", async () => {
    const beta = await endpoint("beta");
    const { identity } = await documentHost("mallory");
    const peer = await rawPeer(beta);
    const result = await handshakeAs(peer, identity, beta.name, {
      signingKey: keyOf("stolen elsewhere"),
    });
    expect(result.answer).toMatchObject({ kind: "error", code: "server_key_unknown" });
    expect((await peer.closed).code).toBe(closeCodeOf("server_key_unknown"));
  });

  it("refuses a handshake signed too long ago or too far ahead", async () => {
    const beta = await endpoint("beta");
    const { identity } = await documentHost("mallory");
    const stale = await rawPeer(beta);
    const old = await handshakeAs(stale, identity, beta.name, { timeMs: Date.now() - 10 * 60_000 });
    expect(old.answer).toMatchObject({ kind: "error", code: "record_expired" });
    const early = await rawPeer(beta);
    const ahead = await handshakeAs(early, identity, beta.name, {
      timeMs: Date.now() + 10 * 60_000,
    });
    expect(ahead.answer).toMatchObject({ kind: "error", code: "timestamp_in_future" });
  });

  it("refuses a server whose key document cannot be found", async () => {
    const beta = await endpoint("beta");
    const peer = await rawPeer(beta);
    const nobody = { name: parseServerName("127.0.0.1:1"), keyPair: keyOf("nobody") };
    const result = await handshakeAs(peer, nobody, beta.name);
    expect(result.answer).toMatchObject({ kind: "error", code: "unavailable" });
  });

  it("refuses a hello meant for another server", async () => {
    const beta = await endpoint("beta");
    const { identity } = await documentHost("mallory");
    const peer = await rawPeer(beta);
    const result = await handshakeAs(peer, identity, beta.name, { responder: "someone.else.test" });
    expect(result.answer).toMatchObject({ kind: "error", code: "server_mismatch" });
  });

  it("refuses a blocked server's handshake, never dials or sends to it, and drops its link once blocked", async () => {
    const { identity } = await documentHost("mallory");
    const blocked = new Set<string>([identity.name]);
    const beta = await endpoint("beta", { isBlocked: (peer) => blocked.has(peer) });
    const peer = await rawPeer(beta);
    const result = await handshakeAs(peer, identity, beta.name);
    expect(result.answer).toMatchObject({ kind: "error", code: "forbidden" });
    expect((await peer.closed).code).toBe(closeCodeOf("forbidden"));
    const links = beta.requireLinks();
    await expect(links.send(identity.name, frameOf("to mallory"), "durable")).rejects.toThrow(
      /blocked/,
    );
    links.connect(identity.name);
    expect(links.isUp(identity.name)).toBe(false);

    // A link that is up when its server gets blocked closes at the server's next frame.
    const alpha = await endpoint("alpha");
    alpha.requireLinks().connect(beta.name);
    await waitUntil("up", () => links.isUp(alpha.name));
    await alpha.requireLinks().send(beta.name, frameOf("before"), "durable");
    await waitUntil("delivered", () => beta.handlers.received.length === 1);
    blocked.add(alpha.name);
    await alpha.requireLinks().send(beta.name, frameOf("after"), "durable");
    await waitUntil("down", () => beta.handlers.events.includes(`down ${alpha.name}`));
    expect(beta.handlers.received.map((frame) => frame.text)).toEqual(["before"]);
  });

  it("keeps exactly one link when both servers dial each other at once", async () => {
    const alpha = await endpoint("alpha");
    const beta = await endpoint("beta");
    alpha.requireLinks().connect(beta.name);
    beta.requireLinks().connect(alpha.name);
    await waitUntil(
      "up",
      () => alpha.requireLinks().isUp(beta.name) && beta.requireLinks().isUp(alpha.name),
    );
    const openLinks = async (side: LinkEndpoint) =>
      (await side.metrics?.registry.getSingleMetricAsString("parley_connections_open")) ?? "";
    for (let round = 0; round < 100; round += 1) {
      const texts = [await openLinks(alpha), await openLinks(beta)];
      if (texts.every((text) => text.includes('kind="federation"} 1'))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await openLinks(alpha)).toContain('kind="federation"} 1');
    expect(await openLinks(beta)).toContain('kind="federation"} 1');
    expect(alpha.handlers.events).toEqual([`up ${beta.name}`]);
    expect(beta.handlers.events).toEqual([`up ${alpha.name}`]);
    await alpha.requireLinks().send(beta.name, frameOf("over the one link"), "durable");
    await waitUntil("delivered", () => beta.handlers.received.length === 1);
  });
});
