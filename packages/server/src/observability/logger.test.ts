import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("logger", () => {
  it("never writes passwords, tokens or keys, however deep they are logged", () => {
    const output = capture();
    const logger = createLogger("trace", output.stream);
    const secrets = [
      "hunter2-password",
      "bearer-token-value",
      "seed-bytes-secret",
      "postgres://parley:db-password@db/parley",
    ];
    logger.info({ password: secrets[0], user: "alice" }, "login attempt");
    logger.info({ request: { headers: { authorization: `Bearer ${secrets[1]}` } } }, "request");
    logger.info({ key: { secretSeed: secrets[2], keyId: "ed25519:abc" } }, "key loaded");
    logger.info({ config: { storage: { postgresUrl: secrets[3] } } }, "config");
    logger.info({ session: { accessToken: secrets[1], token: secrets[1] } }, "session");
    const text = output.text();
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
    }
    // What is not secret is still there to help an operator.
    expect(text).toContain('"user":"alice"');
    expect(text).toContain("ed25519:abc");
    expect(text).toContain("[redacted]");
  });

  it("writes one JSON object per line with the level and message", () => {
    const output = capture();
    createLogger("info", output.stream).warn({ roomId: "!a" }, "slow append");
    const line = JSON.parse(output.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, msg: "slow append", roomId: "!a" });
  });
});
