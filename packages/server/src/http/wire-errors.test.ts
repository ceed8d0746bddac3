import { ParleyError, rateLimited } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { roomRefusal } from "../rooms/room-refusals.ts";
import { StorageError } from "../storage/errors.ts";
import { errorReply, retryAfterSeconds } from "./wire-errors.ts";

describe("error mapping", () => {
  it("answers a ParleyError with its code, its table status and its message", () => {
    const reply = errorReply(new ParleyError("not_found", "no such room"));
    expect(reply).toEqual({
      status: 404,
      body: { code: "not_found", message: "no such room" },
      isServerFault: false,
    });
  });

  it("carries retryAfterMs for rate limits", () => {
    expect(errorReply(rateLimited(1500)).body).toEqual({
      code: "rate_limited",
      message: "rate limited",
      retryAfterMs: 1500,
    });
    expect(retryAfterSeconds(1500)).toBe(2);
    expect(retryAfterSeconds(0)).toBe(1);
  });

  it("adds the room's own refusal code next to the table code", () => {
    const reply = errorReply(roomRefusal("banned", "you are banned"));
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({
      code: "forbidden",
      message: "you are banned",
      roomCode: "banned",
    });
  });

  it("reveals nothing of internal errors", () => {
    for (const thrown of [
      new Error("password=hunter2 at /srv/db"),
      new StorageError("database-failed", "SELECT * FROM secrets"),
      new ParleyError("invalid_argument", "bug detail"),
      new ParleyError("internal", "invariant broken in module x"),
      "a thrown string",
    ]) {
      const reply = errorReply(thrown);
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({ code: "internal", message: "internal error" });
      expect(reply.isServerFault).toBe(true);
    }
  });

  it("maps Fastify's own refusals to table codes", () => {
    const tooLarge = Object.assign(new Error("x"), {
      code: "FST_ERR_CTP_BODY_TOO_LARGE",
      statusCode: 413,
    });
    expect(errorReply(tooLarge)).toMatchObject({
      status: 413,
      body: { code: "payload_too_large" },
    });
    const badJson = Object.assign(new SyntaxError("Unexpected token"), { statusCode: 400 });
    expect(errorReply(badJson)).toMatchObject({ status: 400, body: { code: "bad_encoding" } });
    const badMedia = Object.assign(new Error("x"), { code: "FST_ERR_CTP_INVALID_MEDIA_TYPE" });
    expect(errorReply(badMedia)).toMatchObject({ status: 400, body: { code: "bad_encoding" } });
  });
});
