// The homeserver's federation, assembled: the core (FederationHost) over its
// storage, the driver that feeds it, the transport to other servers, and the
// projection of its events into the client-facing tables. Built before the
// HTTP server listens (the routes hold it) and started once the server's
// name is known (a name defaults to localhost:<bound port>).

import { randomInt } from "node:crypto";
import {
  type DeviceListFrame,
  decodeFrame,
  encodeFrame,
  FederationHost,
  type Frame,
  MemoryFederationStorage,
  type MessageId,
  type ReceiptsFrame,
  type StoredMessage,
  type SubmitFrame,
  type SubmitResultFrame,
} from "@parley/federation";
import { ParleyError, type RoomId, type ServerName } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { Logger } from "../observability/logger.ts";
import type { FetchingCertificateKeys } from "./certificate-keys.ts";
import { FederationDriver, type FederationEventSink } from "./driver/federation-driver.ts";
import {
  type FederationLinkHandlers,
  type FederationTransport,
  type FlushableFederationStorage,
  noFederationTransport,
} from "./driver/federation-transport.ts";
import { frameDelivery } from "./driver/frame-delivery.ts";
import { roomServers } from "./driver/room-servers.ts";
import type { FrameCounts } from "./frame-counts.ts";
import { KeyPackageExchange } from "./key-package-exchange.ts";
import { federationTickIntervalMsDefault, keyPackageClaimTimeoutMsDefault } from "./limits.ts";
import {
  messageBodiesOf,
  OrderedHandoffs,
  type RoutedMessageCheck,
} from "./routed-verification.ts";
import { type IsBlocked, refusalOfSubmission, withoutBlockedServers } from "./server-blocks.ts";
import type { SubmittedMessageCheck } from "./submitted-messages.ts";

/** A transport the runtime owns: closed when the server stops. */
export interface ClosableTransport extends FederationTransport {
  close(): Promise<void>;
}

export interface FederationRuntimeOptions {
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly tickIntervalMs?: number;
  /** Servers the operator blocked (the block list); none when absent. */
  readonly isBlocked?: IsBlocked;
  /** How long a KeyPackage claim to another server waits (limits.keyPackageClaimTimeoutMsDefault). */
  readonly keyPackageClaimTimeoutMs?: number;
  /** The core's storage (DatabaseFederationStorage); in memory, lost on restart, when absent. */
  readonly storage?: (self: ServerName) => Promise<FlushableFederationStorage>;
  /** Links to other servers; none (a server without federation) when absent. */
  readonly transport?: (self: ServerName, handlers: FederationLinkHandlers) => ClosableTransport;
  /** Frames sent and received, by type (metrics); none counted without. */
  readonly frameCounts?: FrameCounts;
  /**
   * This server's key and its peers' keys for control certificates (§12.6.1).
   * Absent (a server without federation, some tests): the core neither signs
   * nor asks for certificates.
   */
  readonly certificateKeys?: (self: ServerName) => FetchingCertificateKeys;
}

/** In-memory federation storage with a flush that does nothing: lost on restart. */
export class VolatileFederationStorage
  extends MemoryFederationStorage
  implements FlushableFederationStorage
{
  async flush(): Promise<void> {}
}

export class FederationRuntime {
  readonly #options: FederationRuntimeOptions;
  #driver: FederationDriver | null = null;
  #transport: ClosableTransport | null = null;
  #storage: FlushableFederationStorage | null = null;
  #durable = false;
  #certificateKeys: FetchingCertificateKeys | null = null;
  #closing: Promise<void> | null = null;
  #linkTransport: FederationTransport | null = null;
  #receiptHandler: ((peer: ServerName, frame: ReceiptsFrame) => void) | null = null;
  #submittedMessageCheck: SubmittedMessageCheck | null = null;
  #deviceListHandler: ((peer: ServerName, frame: DeviceListFrame) => void) | null = null;
  #routedMessageCheck: RoutedMessageCheck | null = null;
  /** KeyPackage claims between servers: they travel on the links but not through the core. */
  readonly keyPackages: KeyPackageExchange;

  constructor(options: FederationRuntimeOptions) {
    this.#options = options;
    this.keyPackages = new KeyPackageExchange({
      timeoutMs: options.keyPackageClaimTimeoutMs ?? keyPackageClaimTimeoutMsDefault,
      firstRequestId: options.nowMs() * 1000,
      logger: options.logger.child({ component: "key-package-exchange" }),
      ...(options.frameCounts === undefined ? {} : { frameCounts: options.frameCounts }),
    });
  }

  /** The running driver; `unavailable` before the server has started. */
  get driver(): FederationDriver {
    if (this.#driver === null) {
      throw new ParleyError("unavailable", "the server is starting; retry shortly");
    }
    return this.#driver;
  }

  get started(): boolean {
    return this.#driver !== null;
  }

  /** True when the core's storage survives a restart. */
  get durable(): boolean {
    return this.#durable;
  }

  /** Whether the operator blocked `server`: nothing is exchanged with it (server-blocks.ts). */
  isBlocked(server: ServerName): boolean {
    return this.#options.isBlocked?.(server) ?? false;
  }

  /** Where delivery receipts from peers go (§12.13); they are dropped until one is set. */
  onReceipts(handler: (peer: ServerName, frame: ReceiptsFrame) => void): void {
    this.#receiptHandler = handler;
  }

  /** Where device lists pushed by peers go (§12.14.2); they are dropped until one is set. */
  onDeviceList(handler: (peer: ServerName, frame: DeviceListFrame) => void): void {
    this.#deviceListHandler = handler;
  }

  /** Pushes a user's device list to the other servers of every room this server takes part in. */
  pushDeviceList(frame: DeviceListFrame): void {
    const transport = this.#linkTransport;
    const driver = this.#driver;
    if (transport === null || driver === null) return;
    for (const peer of driver.view((host) => roomServers(host))) {
      if (this.isBlocked(peer)) continue;
      this.#options.frameCounts?.sent(frame.type);
      transport.send(peer, encodeFrame(frame), frameDelivery(frame)).catch((error: unknown) => {
        this.#options.logger.warn({ err: error, peer }, "device list not queued");
      });
    }
  }

  /** Checks leaves' message submissions before the core sees them (submitted-messages.ts). */
  checkSubmittedMessages(check: SubmittedMessageCheck): void {
    this.#submittedMessageCheck = check;
  }

  /** Checks the bodies of messages other servers route here before the core sees them (routed-verification.ts). */
  checkRoutedMessages(check: RoutedMessageCheck): void {
    this.#routedMessageCheck = check;
  }

  /** Sends receipts on the peer's durable queue; false when this server has no links. */
  sendReceipts(peer: ServerName, frame: ReceiptsFrame): boolean {
    const transport = this.#linkTransport;
    if (transport === null || this.isBlocked(peer)) return false;
    this.#options.frameCounts?.sent("receipts");
    transport.send(peer, encodeFrame(frame), frameDelivery(frame)).catch((error: unknown) => {
      this.#options.logger.warn({ err: error, peer }, "receipts not queued");
    });
    return true;
  }

  /** This server's contiguous mark for `origin` in `room` (§12.5.1), 0 when it holds none. */
  heldMark(room: RoomId, origin: string): number {
    return this.#storage?.messages(room).contiguous(origin as NodeId) ?? 0;
  }

  /** A stored message of a room this server takes part in (for the projection's repairs). */
  storedMessage(room: RoomId, id: MessageId): StoredMessage | undefined {
    return this.#storage?.messages(room).get(id);
  }

  /** Every room the core knows, with its message store (for the projection's repairs at start). */
  roomMessages(): Array<{ room: RoomId; messages: Iterable<StoredMessage> }> {
    const storage = this.#storage;
    if (storage === null) return [];
    return storage.rooms().map((room) => ({ room, messages: storage.messages(room).all() }));
  }

  /** The keys control certificates are signed and checked with; null without (§12.6.1). */
  get certificateKeys(): FetchingCertificateKeys | null {
    return this.#certificateKeys;
  }

  /** Null while healthy (or not started); the error that stopped federation otherwise. */
  get failure(): Error | null {
    return this.#driver?.failure ?? null;
  }

  async start(self: ServerName, sink: FederationEventSink): Promise<FederationDriver> {
    const { logger, nowMs } = this.#options;
    const durable = await this.#options.storage?.(self);
    const storage = durable ?? new VolatileFederationStorage();
    this.#storage = storage;
    this.#durable = durable !== undefined;
    const keys = this.#options.certificateKeys?.(self);
    this.#certificateKeys = keys ?? null;
    const host = new FederationHost({
      self,
      clock: { nowMs },
      random: { nextInt: (bound) => randomInt(bound) },
      storage,
      ...(keys === undefined ? {} : { keys }),
    });
    const driver = new FederationDriver({
      host,
      storage,
      transport: noFederationTransport,
      tickIntervalMs: this.#options.tickIntervalMs ?? federationTickIntervalMsDefault,
      logger: logger.child({ component: "federation" }),
      // Request ids never repeat across restarts (see FederationDriverOptions).
      firstRequestId: nowMs() * 1000,
      ...(this.#options.frameCounts === undefined
        ? {}
        : { frameCounts: this.#options.frameCounts }),
      ...(keys === undefined ? {} : { wantKeys: (servers) => keys.want(servers) }),
    });
    const transport = this.#options.transport?.(self, this.#linkHandlers(driver)) ?? null;
    this.#transport = transport;
    if (transport !== null) {
      const guarded = withoutBlockedServers(transport, (server) => this.isBlocked(server));
      driver.setTransport(guarded);
      this.keyPackages.setTransport(guarded);
      this.#linkTransport = guarded;
    }
    driver.setEventSink(sink);
    this.#driver = driver;
    driver.start();
    return driver;
  }

  /**
   * What the links call: frames about users (KeyPackage claims) go to the
   * exchange, receipts to the delivery tracker, the rest to the driver. A frame that does not decode goes to
   * the driver too, whose core reports the peer's error. Nothing from a
   * blocked server is handled (it is acknowledged and dropped), and a
   * submission naming a blocked participant is refused here (server-blocks.ts).
   */
  #linkHandlers(driver: FederationDriver): FederationLinkHandlers {
    const keyPackages = this.keyPackages;
    const isBlocked = (server: ServerName) => this.isBlocked(server);
    const transport = () => this.#transport;
    const receipts = (peer: ServerName, frame: ReceiptsFrame) =>
      this.#receiptHandler?.(peer, frame);
    const deviceList = (peer: ServerName, frame: DeviceListFrame) =>
      this.#deviceListHandler?.(peer, frame);
    const checkMessage = (frame: SubmitFrame) => this.#refusalOfMessage(frame);
    const checkRouted = (frame: Frame) => {
      const bodies = messageBodiesOf(frame);
      const check = this.#routedMessageCheck;
      return bodies.length === 0 || check === null ? null : check(bodies);
    };
    const handoffs = new OrderedHandoffs();
    const counts = this.#options.frameCounts;
    return {
      linkUp(peer) {
        if (isBlocked(peer)) return;
        driver.linkUp(peer);
        keyPackages.linkUp(peer);
      },
      linkDown: (peer) => driver.linkDown(peer),
      async receive(peer, bytes) {
        if (isBlocked(peer)) return;
        let frame: Frame;
        try {
          frame = decodeFrame(bytes);
        } catch {
          counts?.received("undecodable");
          return driver.receive(peer, bytes);
        }
        counts?.received(frame.type);
        if (frame.type === "key-package-claim" || frame.type === "key-package-claim-result") {
          return keyPackages.receive(peer, frame);
        }
        if (frame.type === "receipts") return receipts(peer, frame);
        if (frame.type === "device-list") return deviceList(peer, frame);
        const refusal =
          frame.type === "submit"
            ? (refusalOfSubmission(frame, isBlocked) ?? (await checkMessage(frame)))
            : null;
        if (refusal !== null) {
          counts?.sent(refusal.type);
          return transport()?.send(peer, encodeFrame(refusal), frameDelivery(refusal));
        }
        return handoffs.run(peer, checkRouted(frame), () => driver.receiveFrame(peer, frame));
      },
    };
  }

  /** The answer refusing a leaf's message submission whose body does not pass, or null. */
  async #refusalOfMessage(frame: SubmitFrame): Promise<SubmitResultFrame | null> {
    const check = this.#submittedMessageCheck;
    if (check === null || frame.submission.kind !== "message") return null;
    const refusal = await check(frame.room, frame.submission.body, frame.submission.sender);
    if (refusal === null) return null;
    return {
      type: "submit-result",
      room: frame.room,
      requestId: frame.requestId,
      outcome: { kind: "refused", code: refusal.code, reason: refusal.reason },
    };
  }

  /** Drains the driver (a final flush), then closes the links. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.keyPackages.close();
      await this.#driver?.close();
      await this.#transport?.close();
    })();
    return this.#closing;
  }
}
