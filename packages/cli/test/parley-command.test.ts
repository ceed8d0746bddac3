// The `parley` command as a user runs it: help, and the client tools whose
// output the curl walk-through in the README feeds to the API.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeBase64url, verifyRoomMessage } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { environmentVariableName, settingPaths } from "@parley/server";
import { describe, expect, it } from "vitest";

const parley = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));

function run(...args: string[]): string {
  return execFileSync(process.execPath, [parley, ...args], { encoding: "utf8" });
}

describe("parley", () => {
  it("lists every server setting with its environment variable in `parley server --help`", () => {
    const help = run("server", "--help");
    for (const path of settingPaths) expect(help).toContain(environmentVariableName(path));
    expect(help).toContain("usage: parley server [--config FILE]");
  });

  it("makes a device key and signs a message that verifies", () => {
    const key = JSON.parse(run("keygen")) as { seed: string; deviceId: string };
    expect(key.deviceId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const envelope = run(
      "sign-message",
      "--seed",
      key.seed,
      "--room",
      "!AAAAAAAAAAAAAAAAAAAAAA",
      "--client-id",
      "m1",
      "--text",
      "hello",
    ).trim();
    const message = verifyRoomMessage(nodeSignatureProvider, decodeBase64url(envelope));
    expect(message.deviceId).toBe(key.deviceId);
    expect(new TextDecoder().decode(message.body)).toBe("hello");
  });

  it("explains itself, and refuses unknown commands", () => {
    expect(run("help")).toContain("usage: parley <command>");
    expect(() => execFileSync(process.execPath, [parley, "nonsense"], { stdio: "pipe" })).toThrow();
  });
});
