// Small tools for trying the client API by hand (curl): the cryptography a
// client must do — make a device key, sign a device record, sign a session
// challenge, sign a message — and reading history back, verified.

import { readFileSync } from "node:fs";
import {
  decodeBase64url,
  encodeBase64url,
  makeUserId,
  parseRoomId,
  parseServerName,
  signRoomMessage,
  verifyStoredRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { signSessionChallenge } from "@parley/server/session-proof";
import { deviceFromSeed, deviceRecordRequest, newDevice } from "../client/device.ts";

type Options = Readonly<Record<string, string>>;

function required(options: Options, name: string): string {
  const value = options[name];
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

function deviceOf(options: Options) {
  return deviceFromSeed(decodeBase64url(required(options, "seed")));
}

/** `parley keygen`: a new device key; keep the seed secret. */
export function keygen(): string {
  const device = newDevice();
  return JSON.stringify({
    seed: encodeBase64url(device.keyPair.secretSeed),
    deviceId: device.deviceId,
  });
}

/** `parley device-record --seed S --user NAME --server HOST:PORT`: the signed record, base64url. */
export function deviceRecord(options: Options): string {
  const user = makeUserId(required(options, "user"), parseServerName(required(options, "server")));
  return deviceRecordRequest(deviceOf(options), user, { nowMs: Date.now() });
}

/** `parley sign-challenge --seed S --challenge C --server HOST:PORT`: the signature, base64url. */
export function signChallenge(options: Options): string {
  const device = deviceOf(options);
  const signature = signSessionChallenge(nodeSignatureProvider, device.keyPair, {
    challenge: decodeBase64url(required(options, "challenge")),
    deviceId: device.deviceId,
    server: required(options, "server"),
  });
  return encodeBase64url(signature);
}

/** `parley sign-message --seed S --room R --client-id C --text T [--content-type X]`: the envelope. */
export function signMessage(options: Options): string {
  const device = deviceOf(options);
  const envelope = signRoomMessage(nodeSignatureProvider, device.keyPair, {
    roomId: parseRoomId(required(options, "room")),
    contentType: options["content-type"] ?? "text/plain",
    body: new TextEncoder().encode(required(options, "text")),
    clientId: required(options, "client-id"),
    sentAtMs: Date.now(),
  });
  return encodeBase64url(envelope);
}

interface HistoryEvent {
  readonly sequence: number;
  readonly kind: string;
  readonly sender: string;
  readonly signed: string;
  readonly signature: string | null;
  readonly control?: { readonly action?: { readonly type?: string } };
}

/** `parley show-history < page.json`: each event of a history page, messages verified. */
export function showHistory(): string {
  const page = JSON.parse(readFileSync(0, "utf8")) as { events?: HistoryEvent[] };
  return (page.events ?? [])
    .map((event) => {
      if (event.kind !== "message" || event.signature === null) {
        return `#${event.sequence} ${event.sender} [${event.control?.action?.type ?? event.kind}]`;
      }
      const message = verifyStoredRoomMessage(
        nodeSignatureProvider,
        decodeBase64url(event.signed),
        decodeBase64url(event.signature),
      );
      return `#${event.sequence} ${event.sender}: ${new TextDecoder().decode(message.body)}`;
    })
    .join("\n");
}
