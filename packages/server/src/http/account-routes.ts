// Routes for accounts, devices and sessions (docs/protocol.md, Client API).

import { z } from "zod";
import { passwordBytesMax, passwordBytesMin } from "../limits.ts";
import type { ClientApiScope, RouteContext } from "./client-api.ts";
import { base64urlBytes, deviceIdField, parseBody } from "./json-fields.ts";

/** A device record request is at most 4 KiB (protocol limits). */
const deviceRecordField = base64urlBytes(4096);
const password = z
  .string()
  .refine(
    (text) => Buffer.byteLength(text) >= passwordBytesMin,
    `at least ${passwordBytesMin} bytes`,
  )
  .refine(
    (text) => Buffer.byteLength(text) <= passwordBytesMax,
    `at most ${passwordBytesMax} bytes`,
  );
const userName = z.string().min(1).max(64);

const registerBody = z.strictObject({
  userName,
  password,
  inviteToken: z.string().min(1).max(256).optional(),
  deviceRecord: deviceRecordField,
});
const loginBody = z.strictObject({ userName, password, deviceRecord: deviceRecordField });
const challengeBody = z.strictObject({ deviceId: deviceIdField });
const sessionBody = z.strictObject({
  deviceId: deviceIdField,
  challenge: base64urlBytes(32),
  signature: base64urlBytes(64),
});
const deviceParams = z.strictObject({ deviceId: deviceIdField });

export function registerAccountRoutes(scope: ClientApiScope, context: RouteContext): void {
  const { accounts } = context;

  scope.post("/register", async (request) => {
    context.admitAuthentication(request);
    const body = parseBody(registerBody, request.body, "register");
    return accounts.register(body);
  });

  scope.post("/login", async (request) => {
    context.admitAuthentication(request);
    return accounts.login(parseBody(loginBody, request.body, "login"));
  });

  scope.post("/session/challenge", async (request) => {
    context.admitAuthentication(request);
    const body = parseBody(challengeBody, request.body, "session challenge");
    return accounts.issueChallenge(body.deviceId);
  });

  scope.post("/session", async (request) => {
    context.admitAuthentication(request);
    return accounts.openSession(parseBody(sessionBody, request.body, "session"));
  });

  scope.post("/logout", async (request) => {
    const session = await context.authenticate(request);
    await accounts.logout(session);
    return { loggedOut: true };
  });

  scope.get("/devices", async (request) => {
    const session = await context.authenticate(request);
    const devices = await accounts.listDevices(session);
    return {
      devices: devices.map((device) => ({
        deviceId: device.deviceId,
        createdAtMs: device.createdAtMs,
        revokedAtMs: device.revokedAtMs,
        recordSequence: device.recordSequence,
        current: device.deviceId === session.deviceId,
      })),
    };
  });

  scope.delete("/devices/:deviceId", async (request) => {
    const session = await context.authenticate(request);
    const { deviceId } = parseBody(deviceParams, request.params, "path");
    await accounts.revokeDevice(session, deviceId);
    return { revoked: true };
  });
}
