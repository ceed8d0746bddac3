import { parseRoomId } from "@parley/protocol";
import { describe, expect, test } from "vitest";
import { testCrypto } from "../../test/devices.ts";
import { openPlaintexts, sealPlaintexts } from "./sealed-plaintexts.ts";

const roomId = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");
const otherRoom = parseRoomId("!BBBBBBBBBBBBBBBBBBBBBA");
const key = new Uint8Array(32).fill(7);
const messages = [
  { id: "device-a/1", contentType: "text/plain", body: new TextEncoder().encode("hello") },
  { id: "device-b/2", contentType: "image/png", body: new Uint8Array([0, 1, 2]) },
];

describe("sealed plaintexts", () => {
  test("open what was sealed, for the same room and key only", async () => {
    const crypto = await testCrypto();
    const sealed = await sealPlaintexts(crypto, roomId, messages, key);
    // The text is not readable in the blob.
    expect(Buffer.from(sealed).includes(Buffer.from("hello"))).toBe(false);
    const opened = await openPlaintexts(crypto, sealed, key, { roomId });
    expect(opened).toEqual({ kind: "opened", messages });
    const elsewhere = await openPlaintexts(crypto, sealed, key, { roomId: otherRoom });
    expect(elsewhere).toMatchObject({ kind: "failed", code: "mls_sealed_state_invalid" });
    const wrongKey = await openPlaintexts(crypto, sealed, new Uint8Array(32).fill(8), { roomId });
    expect(wrongKey).toMatchObject({ kind: "failed", code: "mls_sealed_state_invalid" });
  });
});
