import { nobleSignatureProvider, ParleyError, roomIdFromBytes } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { checkCommitCertified } from "./commit-certificates.ts";

const room = roomIdFromBytes(new Uint8Array(16).fill(3));

describe("checkCommitCertified's waiting", () => {
  it("asks again while unavailable, for at most the wait bound, then refuses", async () => {
    const pauses: number[] = [];
    let asks = 0;
    const checking = checkCommitCertified(
      {
        certificate: async () => {
          asks += 1;
          throw new ParleyError("unavailable", "not yet");
        },
        provider: nobleSignatureProvider,
        sleep: async (ms) => {
          pauses.push(ms);
        },
        waitMsMax: 1_000,
      },
      room,
      5,
      new Uint8Array([1]),
    );
    await expect(checking).rejects.toMatchObject({ code: "certificate_invalid" });
    expect(pauses.reduce((sum, ms) => sum + ms, 0)).toBe(1_000);
    expect(pauses[0]).toBe(25);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(400);
    expect(asks).toBe(pauses.length + 1);
  });

  it("passes on other errors (the server is down, the user left) instead of refusing", async () => {
    const checking = checkCommitCertified(
      {
        certificate: async () => {
          throw new ParleyError("forbidden", "not a member");
        },
        provider: nobleSignatureProvider,
      },
      room,
      5,
      new Uint8Array([1]),
    );
    await expect(checking).rejects.toMatchObject({ code: "forbidden" });
  });
});
