import { errorCodeList, isErrorCode } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTransient, NetworkError, ServerError } from "./errors.ts";

describe("server errors", () => {
  it("keep every code of the table, with its status, room code and retry time", () => {
    for (const code of errorCodeList) {
      const error = ServerError.fromBody(409, {
        code,
        message: "m",
        roomCode: "last_admin",
        retryAfterMs: 5,
      });
      expect(error).toMatchObject({
        code,
        message: "m",
        status: 409,
        roomCode: "last_admin",
        retryAfterMs: 5,
      });
    }
  });

  it("turn any answer body into an error with a code from the table", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.jsonValue(), (status, body) => {
        const error = ServerError.fromBody(status, body);
        expect(isErrorCode(error.code)).toBe(true);
        expect(error.status).toBe(status);
      }),
    );
  });

  it("say which failures are worth retrying", () => {
    expect(isTransient(new NetworkError("reset", undefined))).toBe(true);
    expect(isTransient(ServerError.fromBody(503, { code: "unavailable", message: "" }))).toBe(true);
    expect(isTransient(ServerError.fromBody(429, { code: "rate_limited", message: "" }))).toBe(
      true,
    );
    expect(isTransient(ServerError.fromBody(403, { code: "forbidden", message: "" }))).toBe(false);
    expect(isTransient(new Error("bug"))).toBe(false);
  });
});
