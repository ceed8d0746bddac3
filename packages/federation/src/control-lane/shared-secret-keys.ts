import {
  type CertificateKeys,
  certificateStatement,
  concatBytes,
  equalBytes,
  type RoomId,
  type ServerName,
  sha256,
} from "@parley/protocol";

/**
 * Certificate keys for simulations and tests, not for deployment: a
 * "signature" is SHA-256(server's secret ‖ statement), and every verifier
 * knows every server's secret (`secretOf`). Fast enough for hundreds of
 * seeded runs, and unforgeable by a test's malicious server that does not
 * hold the honest servers' secrets. A server without a secret has an unknown key.
 */
export function sharedSecretKeys(
  self: ServerName,
  secretOf: (server: ServerName) => Uint8Array | undefined,
): CertificateKeys {
  const tag = (secret: Uint8Array, room: RoomId, index: number, chainHash: Uint8Array) => {
    const digest = sha256(concatBytes(secret, certificateStatement(room, index, chainHash)));
    return concatBytes(digest, digest);
  };
  return {
    sign(room, index, chainHash) {
      const secret = secretOf(self);
      if (secret === undefined) throw new Error(`no secret for ${self}`);
      return tag(secret, room, index, chainHash);
    },
    verify(server, room, index, chainHash, signature) {
      const secret = secretOf(server);
      if (secret === undefined) return "unknown-key";
      return equalBytes(tag(secret, room, index, chainHash), signature) ? "valid" : "invalid";
    },
  };
}
