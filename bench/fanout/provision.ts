// Bulk provisioning for the benchmark: accounts, devices with attested device
// records, and sessions, written straight into the homeserver's storage
// before it starts. Registering ten thousand devices through the API would
// spend minutes in argon2 (by design); the records are made and attested
// exactly as registration makes them. Access tokens are stored as their
// SHA-256, as the server stores them (docs/protocol.md, Client API).

import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { deviceRecordRequest, newDevice } from "@parley/cli/client";
import {
  attestDeviceRecord,
  decodeBase64url,
  keyPairFromSeed,
  makeUserId,
  parseServerName,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { loadOrCreateServerKey, openStorage } from "@parley/server";
import argon2 from "argon2";

export interface ProvisionedDevice {
  readonly userName: string;
  readonly device: ReturnType<typeof newDevice>;
  readonly accessToken: string;
}

export async function provisionDevices(input: {
  dataDirectory: string;
  serverName: string;
  prefix: string;
  count: number;
  /** Devices per account: 1 makes every device its own user. */
  devicesPerAccount: number;
}): Promise<ProvisionedDevice[]> {
  const { devicesPerAccount } = input;
  const storage = await openStorage({
    kind: "sqlite",
    path: join(input.dataDirectory, "parley.sqlite"),
  });
  try {
    await storage.migrations.migrateToLatest();
    const nowMs = Date.now();
    const key = await loadOrCreateServerKey(storage, nowMs - 60_000);
    const server = {
      name: parseServerName(input.serverName),
      keyPair: keyPairFromSeed(nodeSignatureProvider, key.secretSeed),
    };
    const passwordHash = await argon2.hash("benchmark password", { type: argon2.argon2id });
    const provisioned: ProvisionedDevice[] = [];
    for (let index = 0; index < input.count; index += 1) {
      const userName = `${input.prefix}${Math.floor(index / devicesPerAccount)}`;
      if (index % devicesPerAccount === 0) {
        await storage.accounts.create({ localName: userName, passwordHash, createdAtMs: nowMs });
      }
      const device = newDevice();
      const request = decodeBase64url(
        deviceRecordRequest(device, makeUserId(userName, server.name), { nowMs }),
      );
      const attested = attestDeviceRecord(nodeSignatureProvider, server, request, nowMs);
      await storage.devices.create({
        deviceId: device.deviceId,
        localName: userName,
        identityRecord: request,
        attestation: attested,
        recordSequence: 1,
        createdAtMs: nowMs,
      });
      const accessToken = randomBytes(32).toString("base64url");
      await storage.devices.createSession({
        tokenHash: new Uint8Array(createHash("sha256").update(accessToken).digest()),
        deviceId: device.deviceId,
        createdAtMs: nowMs,
        expiresAtMs: nowMs + 24 * 60 * 60 * 1000,
      });
      provisioned.push({ userName, device, accessToken });
    }
    return provisioned;
  } finally {
    await storage.close();
  }
}
