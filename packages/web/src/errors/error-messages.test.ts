import { errorCodeList, ParleyError } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { describeError } from "./error-messages.ts";

/** What the SDK throws for a server's answer: a ParleyError with the room's code when a rule refused. */
function serverError(code: ConstructorParameters<typeof ParleyError>[0], roomCode?: string) {
  const error = new ParleyError(code, "detail for logs only");
  return roomCode === undefined ? error : Object.assign(error, { roomCode });
}

describe("error messages", () => {
  it("reads a taken name while signing up, and wrong credentials while signing in", () => {
    expect(describeError(serverError("conflict"), "register")).toBe(
      "That user name is taken. Choose another one.",
    );
    expect(describeError(serverError("unauthorized"), "login")).toBe(
      "Wrong user name or password.",
    );
    expect(describeError(serverError("unauthorized"))).toBe(
      "Your session has ended. Sign in again.",
    );
  });

  it("prefers the room's own refusal code to the generic one", () => {
    expect(describeError(serverError("forbidden", "banned"), "join")).toBe(
      "You are banned from this room.",
    );
    expect(describeError(serverError("conflict", "already_member"), "invite")).toBe(
      "That person is already in this room or already invited.",
    );
    expect(describeError(serverError("forbidden", "no_such_room_code"))).toBe(
      "You are not allowed to do that.",
    );
  });

  it("tells someone joining by id to name a server, or that the named ones did not answer", () => {
    expect(describeError(serverError("not_found"), "join")).toMatch(/name that server/);
    expect(describeError(serverError("unavailable"), "join")).toMatch(/servers you named/);
    expect(describeError(serverError("not_found"))).toBe("That does not exist (any more).");
  });

  it("has a sentence of its own for every code of the table, none of them the bare code", () => {
    for (const code of errorCodeList) {
      const sentence = describeError(serverError(code));
      expect(sentence).toMatch(/^[A-Z].*[.?]$/);
      expect(sentence).not.toContain(code);
      if (code !== "internal")
        expect(sentence, code).not.toBe(describeError(serverError("internal")));
    }
  });

  it("says how long to wait when rate limited", () => {
    const error = new ParleyError("rate_limited", "slow down", { retryAfterMs: 2_300 });
    expect(describeError(error)).toBe("Too many requests. Try again in 3 seconds.");
    const brief = new ParleyError("rate_limited", "slow down", { retryAfterMs: 10 });
    expect(describeError(brief)).toBe("Too many requests. Try again in 1 second.");
  });

  it("never shows a server's detail, a stack or an unknown code", () => {
    const internal = describeError(serverError("internal"));
    expect(internal).not.toContain("detail");
    expect(describeError(new TypeError("Failed to fetch"))).toBe(
      "The server cannot be reached right now. Check the connection and try again.",
    );
    expect(describeError({ code: "something_new" })).toBe(
      "Something went wrong in this page. Reload it and try again.",
    );
    expect(describeError("a string")).toBe(internal);
  });

  it("has a sentence for every code a client can receive", () => {
    for (const code of ["bad_user_id", "not_found", "unavailable", "device_revoked"] as const) {
      const sentence = describeError(serverError(code));
      expect(sentence).toMatch(/^[A-Z].*\.$/);
      expect(sentence).not.toBe(describeError(serverError("internal")));
    }
  });
});
