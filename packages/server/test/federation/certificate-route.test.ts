// GET /rooms/{roomId}/certificate (docs/protocol.md §10.3): a user of a leaf
// reads the room's newest certificate with the records it covers, and the
// shared check (checkCertifiedRecords, what the SDK runs) believes them;
// also after the leaf restarted with its sponsor away. A certificate that
// does not cover the index asked for yet is `unavailable`; a user who takes
// no part in the room is refused.

import { newDevice, ParleyClient } from "@parley/cli/client";
import {
  type CertificateAnswerJson,
  checkCertifiedRecords,
  decodeBase64url,
  encodeBase64url,
  listedCertificateKeys,
  parseCertificateAnswer,
  parseServerName,
  type RoomId,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, InProcessServers, testPassword } from "./in-process-servers.ts";

const servers = new InProcessServers();
const a = parseServerName("a.test");
const c = parseServerName("c.test");

function check(room: RoomId, answer: CertificateAnswerJson) {
  const { served, publicKeys } = parseCertificateAnswer(answer);
  return checkCertifiedRecords(
    room,
    served,
    listedCertificateKeys(nodeSignatureProvider, publicKeys),
  );
}

beforeAll(() => servers.start(a, c));

afterAll(() => servers.closeAll());

describe("the certificate route", () => {
  it("serves a leaf's user a certificate the shared check believes, across a restart", async () => {
    const alice = await servers.user("alice", a);
    const carol = await servers.user("carol", c);
    const dave = await servers.user("dave", c);
    const roomId = await servers.openRoomWithLeaf(alice, carol, a, "served");
    const { logIndex } = await alice.act(roomId, { type: "set-topic", topic: "certified" });
    const path = `/rooms/${roomId}/certificate`;
    let answer: CertificateAnswerJson | undefined;
    await eventually(async () => {
      answer = await carol.request<CertificateAnswerJson>("GET", `${path}?from=${logIndex}`);
      return answer.certificate.index >= logIndex;
    });
    if (answer === undefined) throw new Error("no certificate");
    expect(answer.from).toBe(logIndex);
    expect(answer.records).toHaveLength(answer.certificate.index - logIndex + 1);
    expect(answer.sponsors).toEqual([a]);
    expect(check(roomId as RoomId, answer).kind).toBe("certified");

    // A record changed in transit is refused by the same check.
    const tampered = { ...answer, records: [...answer.records] };
    const first = decodeBase64url(tampered.records[0] ?? "");
    tampered.records[0] = encodeBase64url(new Uint8Array([...first, 0]));
    expect(check(roomId as RoomId, tampered).kind).toBe("refused");

    const beyond = answer.certificate.index + 1;
    await expect(carol.request("GET", `${path}?from=${beyond}`)).rejects.toMatchObject({
      code: "unavailable",
    });
    await expect(dave.request("GET", path)).rejects.toMatchObject({ code: "forbidden" });

    // Restarted with its sponsor away, the leaf serves the certificate from its database.
    await servers.stop(a);
    await servers.stop(c);
    await servers.start(c);
    const carolAgain = new ParleyClient({
      baseUrl: servers.get(c).url,
      serverName: c,
      device: newDevice(),
    });
    await carolAgain.login("carol", testPassword);
    const restarted = await carolAgain.request<CertificateAnswerJson>("GET", path);
    expect(restarted.certificate).toEqual(answer.certificate);
    expect(check(roomId as RoomId, restarted).kind).toBe("certified");
  });
});
