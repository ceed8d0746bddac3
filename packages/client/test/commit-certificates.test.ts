// Clients refuse uncertified commits (docs/protocol.md §10.13, §12.6.1): a
// member processes another member's MLS commit only once its homeserver
// serves a certificate that a majority of the room's sponsors signed over a
// chain the served records reach, carrying that very commit. What the
// server serves is tampered with in between (a forged signature, a sponsor
// set the signers are a minority of, no certificate at all): each time the
// commit is refused with a `commit-refused` event and not processed; once
// honest answers come back the member catches up.

import type { ClientEvent, FetchFunction } from "@parley/client";
import type { RoomId } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventuallyAsync, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

type Tampering = "none" | "forged" | "minority" | "missing";

interface CertificateAnswer {
  certificate: { signatures: Array<{ server: string; signature: string }> };
  sponsors: string[];
}

/** A fetch that changes `GET /rooms/{id}/certificate` answers as `mode.now` says. */
function tamperingFetch(mode: { now: Tampering; served: number }): FetchFunction {
  return async (url, init) => {
    const response = await fetch(url, init);
    const text = await response.text();
    if (!url.includes("/certificate?") || !response.ok) {
      return { ok: response.ok, status: response.status, text: async () => text };
    }
    mode.served += 1;
    const answer = JSON.parse(text) as CertificateAnswer;
    switch (mode.now) {
      case "forged": {
        for (const one of answer.certificate.signatures) {
          // Another valid-looking signature: the same length, other bytes.
          one.signature = `${one.signature.startsWith("A") ? "B" : "A"}${one.signature.slice(1)}`;
        }
        break;
      }
      case "minority":
        // The one real signer is now one of three sponsors: not a majority.
        answer.sponsors = [...answer.sponsors, "x.example", "y.example"];
        break;
      case "missing": {
        const body = JSON.stringify({ code: "unavailable", message: "no certificate yet" });
        return { ok: false, status: 503, text: async () => body };
      }
      case "none":
        break;
    }
    const body = JSON.stringify(answer);
    return { ok: true, status: 200, text: async () => body };
  };
}

function refusals(events: readonly ClientEvent[]) {
  return events.flatMap((event) => (event.type === "commit-refused" ? [event] : []));
}

const small = { keyPackagesTarget: 4, keyPackagesRefillBelow: 2 };

describe("commits are processed only under a valid certificate", () => {
  it("refuses forged, minority and missing certificates, then catches up on honest ones", async () => {
    const mode: { now: Tampering; served: number } = { now: "none", served: 0 };
    const alice = await homeserver.user("alice", { encryption: small });
    const bob = await homeserver.user("bob", {
      encryption: { ...small, certificateWaitMs: 600 },
      fetch: tamperingFetch(mode),
    });
    const others = await Promise.all(
      ["carol", "dave", "erin", "frank", "grace"].map((name) =>
        homeserver.user(name, { encryption: small }),
      ),
    );
    for (const client of [alice, bob, ...others]) await client.refillKeyPackages();
    const events: ClientEvent[] = [];
    bob.onEvent((event) => events.push(event));
    await alice.start();
    const { roomId } = await alice.createRoom({ name: "certified", kind: "encrypted" });
    await alice.invite(roomId, bob.userId);
    await bob.start();
    await eventuallyAsync(async () => (await bob.encryptionEpoch(roomId)) !== undefined);
    await bob.join(roomId);
    const epochOf = (client: typeof bob, room: RoomId) => client.encryptionEpoch(room);
    const bobAt = async (epoch: number) => (await epochOf(bob, roomId)) === epoch;

    // Honest: bob checks the certificate of alice's next commit and processes it.
    const [carol, dave, erin, frank, grace] = others;
    if (carol === undefined || dave === undefined || erin === undefined) throw new Error("users");
    if (frank === undefined || grace === undefined) throw new Error("users");
    await alice.invite(roomId, carol.userId);
    await eventuallyAsync(() => bobAt(2));
    expect(mode.served).toBeGreaterThan(0);
    expect(refusals(events)).toEqual([]);

    // Each tampering refuses the commit of epoch 2 (the next commit makes bob catch up and check it again).
    const invitees = { forged: dave, minority: erin, missing: frank } as const;
    for (const tampering of ["forged", "minority", "missing"] as const) {
      mode.now = tampering;
      const before = refusals(events).length;
      await alice.invite(roomId, invitees[tampering].userId);
      await eventuallyAsync(async () => refusals(events).length > before);
      const refused = refusals(events).at(-1);
      expect(refused?.roomId).toBe(roomId);
      expect(refused?.epoch).toBe(2);
      expect(refused?.error.code).toBe("certificate_invalid");
      expect(await epochOf(bob, roomId)).toBe(2);
    }
    const messages = refusals(events).map((event) => event.error.message);
    expect(messages[0]).toMatch(/valid sponsor signatures/);
    expect(messages[1]).toMatch(/a majority of 3 is 2/);
    expect(messages[2]).toMatch(/no certificate covers/);

    // Honest again: bob catches up on every commit it refused.
    mode.now = "none";
    await alice.invite(roomId, grace.userId);
    const aliceEpoch = await epochOf(alice, roomId);
    expect(aliceEpoch).toBe(6);
    await eventuallyAsync(() => bobAt(6));
  });
});
