import { describe, expect, it } from "vitest";
import { clientFrameBytesMax, clientSendFrameBytesMax } from "../../limits.ts";
import { parseClientFrame } from "./frames.ts";

const frame = (value: unknown) => Buffer.from(JSON.stringify(value));
const refusedWith = (code: string) => expect.objectContaining({ code });

describe("client stream frames", () => {
  it("accepts auth, ack and ping", () => {
    expect(parseClientFrame(frame({ type: "auth", token: "abc" }), false)).toEqual({
      type: "auth",
      token: "abc",
    });
    expect(parseClientFrame(frame({ type: "ack", stream: 5 }), false)).toEqual({
      type: "ack",
      stream: 5,
    });
    expect(parseClientFrame(frame({ type: "ack", queue: 2 }), false)).toEqual({
      type: "ack",
      queue: 2,
    });
    expect(parseClientFrame(frame({ type: "ping" }), false)).toEqual({ type: "ping" });
  });

  it.each([
    ["an unknown type", { type: "subscribe" }],
    ["an unknown field", { type: "ping", extra: 1 }],
    ["an empty ack", { type: "ack" }],
    ["a negative position", { type: "ack", stream: -1 }],
    ["a fractional position", { type: "ack", stream: 1.5 }],
    ["a missing token", { type: "auth" }],
  ])("refuses %s as bad_structure", (_, value) => {
    expect(() => parseClientFrame(frame(value), false)).toThrow(refusedWith("bad_structure"));
  });

  it("refuses text that is not JSON, and binary frames, as bad_encoding", () => {
    expect(() => parseClientFrame(Buffer.from("{nope"), false)).toThrow(
      refusedWith("bad_encoding"),
    );
    expect(() => parseClientFrame(frame({ type: "ping" }), true)).toThrow(
      refusedWith("bad_encoding"),
    );
  });

  it("refuses frames over the size limit before parsing them", () => {
    const big = Buffer.alloc(clientFrameBytesMax + 1, 0x20);
    expect(() => parseClientFrame(big, false)).toThrow(refusedWith("payload_too_large"));
  });

  it("accepts a send frame up to its own larger limit, and only a send frame", () => {
    const message = "A".repeat(clientFrameBytesMax * 2);
    const send = { type: "send", id: "m-1", roomId: "!AAAAAAAAAAAAAAAAAAAAAA", message };
    expect(parseClientFrame(frame(send), false)).toEqual(send);
    const padded = { type: "ping", padding: message };
    expect(() => parseClientFrame(frame(padded), false)).toThrow(refusedWith("payload_too_large"));
    const huge = { ...send, message: "A".repeat(clientSendFrameBytesMax) };
    expect(() => parseClientFrame(frame(huge), false)).toThrow(refusedWith("payload_too_large"));
    expect(() => parseClientFrame(frame({ ...send, id: "has space" }), false)).toThrow(
      refusedWith("bad_structure"),
    );
    expect(() => parseClientFrame(frame({ ...send, extra: 1 }), false)).toThrow(
      refusedWith("bad_structure"),
    );
  });
});
