import {
  isParleyError,
  ParleyError,
  parseRoomId,
  signRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { createVerifyingProvider } from "../http/verifying-provider.ts";
import { signatureInlinePerTurnMax } from "../limits.ts";
import { PreverifiedSignatures, preverifyRoomMessage } from "./preverified.ts";
import { SignaturePool } from "./signature-pool.ts";

const pools: SignaturePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function poolOf(options: ConstructorParameters<typeof SignaturePool>[0]): SignaturePool {
  const pool = new SignaturePool(options);
  pools.push(pool);
  return pool;
}

function signed(text: string) {
  const keyPair = nodeSignatureProvider.generateKeyPair();
  const message = new TextEncoder().encode(text);
  return {
    publicKey: keyPair.publicKey,
    message,
    signature: nodeSignatureProvider.sign(keyPair, message),
  };
}

describe("SignaturePool", () => {
  it("accepts good signatures and rejects bad ones, across threads and batches", async () => {
    const pool = poolOf({ threads: 2 });
    const checks = Array.from({ length: 40 }, (_, index) => signed(`message ${index}`));
    const tampered = checks.map((check, index) =>
      index % 3 === 0
        ? { ...check, message: new TextEncoder().encode(`forged ${index}`) }
        : index % 3 === 1
          ? { ...check, signature: check.signature.map((byte, at) => (at === 5 ? byte ^ 1 : byte)) }
          : check,
    );
    const results = await Promise.all(tampered.map((check) => pool.verify(check)));
    expect(results).toEqual(tampered.map((_, index) => index % 3 === 2));
    expect(await pool.verify({ ...signed("x"), publicKey: new Uint8Array(31) })).toBe(false);
    expect(pool.queued).toBe(0);
  });

  it("answers unavailable with a retry time when its queue is full, and recovers", async () => {
    const pool = poolOf({ threads: 1, queueMax: 3 });
    const check = signed("hello");
    const first = [pool.verify(check), pool.verify(check), pool.verify(check)];
    const refused = await pool.verify(check).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isParleyError(refused, "unavailable")).toBe(true);
    expect((refused as ParleyError).toWire().retryAfterMs).toBeGreaterThan(0);
    expect(await Promise.all(first)).toEqual([true, true, true]);
    expect(await pool.verify(check)).toBe(true);
  });

  it("fails what is waiting when closed", async () => {
    const pool = poolOf({ threads: 1 });
    const waiting = pool.verify(signed("late"));
    await pool.close();
    await expect(waiting).rejects.toBeInstanceOf(ParleyError);
    await expect(pool.verify(signed("after"))).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("PreverifiedSignatures", () => {
  it("answers an exact check once and nothing else", () => {
    const preverified = new PreverifiedSignatures(2);
    const check = signed("one");
    preverified.add(check);
    expect(preverified.take({ ...check, message: new TextEncoder().encode("other") })).toBe(false);
    expect(preverified.take(check)).toBe(true);
    expect(preverified.take(check)).toBe(false);
    const [a, b, c] = [signed("a"), signed("b"), signed("c")];
    preverified.add(a);
    preverified.add(b);
    preverified.add(c);
    expect(preverified.size).toBe(2);
    expect(preverified.take(a)).toBe(false);
    expect(preverified.take(c)).toBe(true);
  });
});

describe("SignaturePool inline turns", () => {
  it("lets a few callers per idle turn verify inline, and nobody while work is queued", async () => {
    const pool = poolOf({ threads: 1 });
    for (let caller = 0; caller < signatureInlinePerTurnMax; caller += 1) {
      expect(pool.claimInlineTurn()).toBe(true);
    }
    expect(pool.claimInlineTurn()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    const running = pool.verify(signed("busy"));
    expect(pool.claimInlineTurn()).toBe(false);
    expect(await running).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.claimInlineTurn()).toBe(true);
  });
});

describe("preverifyRoomMessage", () => {
  const keyPair = nodeSignatureProvider.generateKeyPair();
  const envelope = signRoomMessage(nodeSignatureProvider, keyPair, {
    roomId: parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA"),
    contentType: "text/plain",
    body: new TextEncoder().encode("hello"),
    clientId: "m1",
    sentAtMs: 1_700_000_000_000,
  });

  it("verifies on the pool and hands the verdict to the message path's provider once", async () => {
    const pool = poolOf({ threads: 1 });
    const preverified = new PreverifiedSignatures();
    await preverifyRoomMessage(envelope, pool, preverified, { always: true });
    expect(preverified.size).toBe(1);
    const provider = createVerifyingProvider(preverified);
    expect(verifyRoomMessage(provider, envelope).clientId).toBe("m1");
    expect(preverified.size).toBe(0);
  });

  it("refuses a bad signature from the pool with signature_invalid and records nothing", async () => {
    const pool = poolOf({ threads: 1 });
    const preverified = new PreverifiedSignatures();
    const forged = new Uint8Array(envelope);
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1;
    await expect(
      preverifyRoomMessage(forged, pool, preverified, { always: true }),
    ).rejects.toMatchObject({ code: "signature_invalid" });
    expect(preverified.size).toBe(0);
    // Undecodable bytes are left to the message path, which has their code.
    await preverifyRoomMessage(new Uint8Array([1, 2, 3]), pool, preverified, { always: true });
    expect(preverified.size).toBe(0);
  });
});
