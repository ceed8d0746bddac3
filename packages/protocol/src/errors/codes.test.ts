import { describe, expect, test } from "vitest";
import { errorCodeList, errorCodes, isErrorCode } from "./codes.ts";
import {
  fromWireError,
  isParleyError,
  ParleyError,
  rateLimited,
  toParleyError,
} from "./parley-error.ts";

describe("the error-code table", () => {
  test("wire codes are lower-case snake words", () => {
    for (const code of errorCodeList) expect(code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
  });

  test("every WebSocket close code is unique and in the private range 4000-4999", () => {
    const closeCodes = errorCodeList.map((code) => errorCodes[code].closeCode);
    expect(new Set(closeCodes).size).toBe(closeCodes.length);
    for (const closeCode of closeCodes) {
      expect(closeCode).toBeGreaterThanOrEqual(4000);
      expect(closeCode).toBeLessThanOrEqual(4999);
    }
  });

  test("every HTTP status is an error status, and 5xx only for bugs and server conditions", () => {
    for (const code of errorCodeList) {
      const { httpStatus, category } = errorCodes[code];
      expect(Number.isInteger(httpStatus)).toBe(true);
      expect(httpStatus).toBeGreaterThanOrEqual(400);
      expect(httpStatus).toBeLessThanOrEqual(599);
      const isServerSide =
        category === "misuse" || category === "internal" || category === "refused";
      if (httpStatus >= 500) expect(isServerSide).toBe(true);
    }
  });

  test("request-level codes carry the status their name promises", () => {
    const expected = {
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      rate_limited: 429,
      internal: 500,
      unavailable: 503,
    } as const;
    for (const [code, status] of Object.entries(expected)) {
      expect(isErrorCode(code)).toBe(true);
      if (isErrorCode(code)) expect(errorCodes[code].httpStatus).toBe(status);
    }
  });

  test("meanings are single non-empty lines", () => {
    for (const code of errorCodeList) {
      const { meaning } = errorCodes[code];
      expect(meaning.length).toBeGreaterThan(0);
      expect(meaning).not.toMatch(/\n/);
    }
  });

  test("isErrorCode knows the table and nothing else", () => {
    expect(isErrorCode("bad_encoding")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("__proto__")).toBe(false);
    expect(isErrorCode(4000)).toBe(false);
  });
});

describe("ParleyError", () => {
  test("carries its code, cause and the table's statuses", () => {
    const cause = new Error("low level");
    const error = new ParleyError("signature_invalid", "device signature", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("signature_invalid");
    expect(error.cause).toBe(cause);
    expect(error.category).toBe("verification");
    expect(error.httpStatus).toBe(400);
    expect(error.closeCode).toBe(4100);
    expect(isParleyError(error, "signature_invalid")).toBe(true);
    expect(isParleyError(error, "bad_encoding")).toBe(false);
  });

  test("a 500 reveals nothing internal on the wire", () => {
    const secret = "password=hunter2 at /srv/parley/db.sqlite";
    for (const error of [
      new ParleyError("internal", secret),
      new ParleyError("invalid_argument", secret),
      toParleyError(new TypeError(secret)),
    ]) {
      const wire = error.toWire();
      expect(wire.code).toBe("internal");
      expect(JSON.stringify(wire)).not.toContain("hunter2");
    }
  });

  test("client errors keep their detail and rate limits their retry time", () => {
    expect(new ParleyError("bad_user_id", "no @").toWire()).toEqual({
      code: "bad_user_id",
      message: "no @",
    });
    const limited = rateLimited(1500);
    expect(limited.code).toBe("rate_limited");
    expect(limited.toWire()).toEqual({
      code: "rate_limited",
      message: "rate limited",
      retryAfterMs: 1500,
    });
    expect(() => rateLimited(-1)).toThrow(ParleyError);
  });

  test("an unknown code from a newer peer becomes internal", () => {
    expect(fromWireError("brand_new_code", "hi").code).toBe("internal");
    expect(fromWireError("not_found", "no such room").code).toBe("not_found");
  });
});
