import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseChatLine } from "./chat-commands.ts";

describe("chat lines", () => {
  it("reads each command with its arguments", () => {
    expect(parseChatLine("/create lunch plans open")).toEqual({
      type: "create",
      name: "lunch plans",
      joinRule: "open",
      encrypted: false,
    });
    expect(parseChatLine("/create --encrypted secret plans knock")).toEqual({
      type: "create",
      name: "secret plans",
      joinRule: "knock",
      encrypted: true,
    });
    expect(parseChatLine("/create lunch")).toEqual({
      type: "create",
      name: "lunch",
      joinRule: "invite",
      encrypted: false,
    });
    expect(parseChatLine("/join #lunch")).toEqual({ type: "join", room: "#lunch" });
    expect(parseChatLine("/invite bob")).toEqual({ type: "invite", user: "bob", room: undefined });
    expect(parseChatLine("/invite bob@x.org 2")).toEqual({
      type: "invite",
      user: "bob@x.org",
      room: "2",
    });
    expect(parseChatLine("/msg lunch see you  at noon")).toEqual({
      type: "msg",
      room: "lunch",
      text: "see you  at noon",
    });
    expect(parseChatLine("/switch 3")).toEqual({ type: "switch", room: "3" });
    expect(parseChatLine("/leave")).toEqual({ type: "leave", room: undefined });
    expect(parseChatLine("/members lunch")).toEqual({ type: "members", room: "lunch" });
    expect(parseChatLine("/history")).toEqual({ type: "history", count: 20 });
    expect(parseChatLine("/devices")).toEqual({ type: "devices" });
    expect(parseChatLine("/revoke 5xyGRi0")).toEqual({ type: "revoke", device: "5xyGRi0" });
    expect(parseChatLine("/revoke")).toMatchObject({ type: "invalid" });
    expect(parseChatLine("/revoke a b")).toMatchObject({ type: "invalid" });
    expect(parseChatLine("/history 100")).toEqual({ type: "history", count: 100 });
    expect(parseChatLine("/QUIT")).toEqual({ type: "quit" });
    expect(parseChatLine("   ")).toEqual({ type: "nothing" });
    expect(parseChatLine("//etc/hosts is a file")).toEqual({
      type: "say",
      text: "/etc/hosts is a file",
    });
  });

  it("explains malformed commands instead of guessing", () => {
    for (const line of [
      "/create",
      "/create --encrypted",
      "/join",
      "/invite",
      "/msg lunch",
      "/history 0",
      "/history x",
      "/frobnicate",
    ]) {
      expect(parseChatLine(line).type).toBe("invalid");
    }
  });

  it("sends any line without a leading slash as it was typed, trimmed", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const trimmed = text.trim();
        fc.pre(trimmed !== "" && !trimmed.startsWith("/"));
        expect(parseChatLine(text)).toEqual({ type: "say", text: trimmed });
      }),
    );
  });
});
