// Live delivery of the event stream to devices. A device's inbox is its
// cursor over the one server-wide stream plus its small queue (see
// storage/repositories/inboxes.ts); this hub pushes both over WebSockets.
//
// - New events arrive from the group committer in stream order. Each gets its
//   JSON text once and goes into a ring of recent events; the sockets reading
//   its room are marked dirty.
// - A flush (once per event-loop turn) sends each dirty socket one frame with
//   everything new for it: frames coalesce under load, and receivers with the
//   same pending events share one encoded frame.
// - A socket behind the ring (just connected, slow, or after another process
//   wrote) catches up from storage, page by page, then goes live again.
// - A socket whose buffer is full gets nothing more until it drains: it falls
//   behind and catches up with bigger frames, instead of growing memory.

import type { DeviceId, UserId } from "@parley/protocol";
import { DeliveryTruth } from "../../delivery/delivery-truth.ts";
import {
  pageSizeMax,
  streamAckFlushIntervalMs,
  streamBufferedBytesMax,
  streamFrameEventsMax,
} from "../../limits.ts";
import type { Logger } from "../../observability/logger.ts";
import type { HomeserverMetrics } from "../../observability/metrics.ts";
import { eventJsonText } from "../../rooms/event-json.ts";
import type { InboxRetention, StoredEvent } from "../../storage/records.ts";
import type { Storage } from "../../storage/storage.ts";
import { AcknowledgementWriter } from "./acknowledgement-writer.ts";
import { QueueDelivery } from "./queue-delivery.ts";
import { RecentEvents } from "./recent-events.ts";
import {
  eventsFrame,
  type Reader,
  StreamConnection,
  type StreamSocket,
} from "./stream-connection.ts";

export interface DeliveryHubDependencies {
  readonly storage: Storage;
  /** This server's name, once known (delivery counts tell local users from remote ones). */
  readonly serverName: () => string;
  readonly nowMs: () => number;
  readonly retention: InboxRetention;
  readonly logger: Logger;
  readonly metrics: HomeserverMetrics;
}

/** How often sockets held back by a full buffer are looked at again. */
const backedUpRetryMs = 20;

export class DeliveryHub {
  readonly #dependencies: DeliveryHubDependencies;
  readonly #queues: QueueDelivery;
  #recent = new RecentEvents(0);
  readonly #readers = new Map<UserId, Reader>();
  readonly #roomReaders = new Map<string, Set<StreamConnection>>();
  readonly #devices = new Map<string, Set<StreamConnection>>();
  readonly #dirty = new Set<StreamConnection>();
  readonly #backedUp = new Set<StreamConnection>();
  readonly #acknowledgements: AcknowledgementWriter;
  /** Delivery counts and receipts (§10.14, §12.13); the federation connects to it at start. */
  readonly delivery: DeliveryTruth;
  #flushScheduled = false;
  #nextId = 1;
  #timers: NodeJS.Timeout[] = [];

  constructor(dependencies: DeliveryHubDependencies) {
    this.#dependencies = dependencies;
    this.#queues = new QueueDelivery(dependencies.storage, dependencies.logger);
    this.#acknowledgements = new AcknowledgementWriter(dependencies.storage, dependencies.logger);
    this.delivery = new DeliveryTruth({
      storage: dependencies.storage,
      serverName: dependencies.serverName,
      nowMs: dependencies.nowMs,
      acknowledgedOf: (deviceId) => this.#acknowledgedOf(deviceId),
      sendToUser: (userId, frame) => this.#sendToUser(userId, frame),
      logger: dependencies.logger,
    });
  }

  async start(): Promise<void> {
    this.#recent = new RecentEvents(await this.#dependencies.storage.events.streamHead());
    const ackTimer = setInterval(
      () => this.#acknowledgements.writeNewest(this.#devices),
      streamAckFlushIntervalMs,
    );
    const retryTimer = setInterval(() => this.#retryBackedUp(), backedUpRetryMs);
    ackTimer.unref();
    retryTimer.unref();
    this.#timers = [ackTimer, retryTimer];
    this.delivery.start();
  }

  get connectionCount(): number {
    let count = 0;
    for (const connections of this.#devices.values()) count += connections.size;
    return count;
  }

  /** New events from the group committer, in stream order. */
  publish(events: readonly StoredEvent[]): void {
    this.delivery.observe(events);
    for (const event of events) {
      this.#recent.add({
        position: event.streamPosition,
        roomId: event.roomId,
        text: eventJsonText(event),
      });
      const readers = this.#roomReaders.get(event.roomId);
      if (readers !== undefined) for (const connection of readers) this.#dirty.add(connection);
    }
    this.#scheduleFlush();
  }

  /** A user starts or stops reading a room (join, leave, kick, ban): effective at once. */
  readerChanged(roomId: string, user: UserId, reads: boolean): void {
    const reader = this.#readers.get(user);
    if (reader === undefined) return;
    reader.changedWhileLoading?.add(roomId);
    if (reads) reader.rooms.add(roomId);
    else reader.rooms.delete(roomId);
    for (const connection of reader.connections) {
      if (reads) this.#roomReadersOf(roomId).add(connection);
      else this.#roomReaders.get(roomId)?.delete(connection);
    }
  }

  queueChanged(deviceId: string): void {
    for (const connection of this.#devices.get(deviceId) ?? []) this.#queues.pump(connection);
  }

  /** Adds an authenticated socket and sends it what it missed, then live events. */
  async attach(
    socket: StreamSocket,
    session: { userId: UserId; deviceId: DeviceId; sessionKey: string },
  ): Promise<StreamConnection> {
    await this.#acknowledgements.settled(session.deviceId);
    const reader = await this.#readerOf(session.userId);
    const connection = new StreamConnection({ id: this.#nextId, socket, reader, ...session });
    this.#nextId += 1;
    reader.connections.add(connection);
    for (const roomId of reader.rooms) this.#roomReadersOf(roomId).add(connection);
    const deviceConnections = this.#devices.get(session.deviceId) ?? new Set();
    deviceConnections.add(connection);
    this.#devices.set(session.deviceId, deviceConnections);
    this.#dependencies.metrics.connectionsOpen.inc({ kind: "client" });
    this.#dependencies.metrics.connectionsTotal.inc({ kind: "client" });
    const cursor = await this.#dependencies.storage.inboxes.cursor(session.deviceId);
    if (cursor === null) throw new Error("an authenticated device has no inbox");
    connection.sent = cursor.streamPosition;
    connection.acknowledged = cursor.streamPosition;
    connection.acknowledgedWritten = cursor.streamPosition;
    connection.queueSent = cursor.queuePosition;
    connection.sendJson({
      type: "ready",
      userId: session.userId,
      deviceId: session.deviceId,
      streamPosition: cursor.streamPosition,
      queuePosition: cursor.queuePosition,
    });
    await this.#sendBacklog(connection);
    this.#queues.pump(connection);
    this.delivery.connected(session.userId);
    return connection;
  }

  detach(connection: StreamConnection): void {
    if (connection.closed) return;
    connection.state = "closed";
    connection.reader.connections.delete(connection);
    for (const roomId of connection.reader.rooms) this.#roomReaders.get(roomId)?.delete(connection);
    if (connection.reader.connections.size === 0) this.#readers.delete(connection.userId);
    const deviceConnections = this.#devices.get(connection.deviceId);
    deviceConnections?.delete(connection);
    if (deviceConnections?.size === 0) this.#devices.delete(connection.deviceId);
    this.#dirty.delete(connection);
    this.#backedUp.delete(connection);
    this.#dependencies.metrics.connectionsOpen.dec({ kind: "client" });
    this.#acknowledgements.writeOne(connection.deviceId, connection.acknowledged);
  }

  /** The device acknowledged stream events up to `position` (a `through` it was sent). */
  acknowledgeStream(connection: StreamConnection, position: number): boolean {
    if (position > connection.sent) return false;
    connection.acknowledged = Math.max(connection.acknowledged, position);
    return true;
  }

  acknowledgeQueue(connection: StreamConnection, position: number): Promise<boolean> {
    return this.#queues.acknowledge(connection, position);
  }

  /** Sockets of a device, e.g. to close them all when it is revoked. */
  connectionsOfDevice(deviceId: string): readonly StreamConnection[] {
    return [...(this.#devices.get(deviceId) ?? [])];
  }

  allConnections(): StreamConnection[] {
    return [...this.#devices.values()].flatMap((connections) => [...connections]);
  }

  /** Writes pending acknowledgements and stops timers; sockets are closed by the caller. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.delivery.stop();
    await this.#acknowledgements.idle();
    this.#acknowledgements.writeNewest(this.#devices);
    await this.#acknowledgements.idle();
  }

  async #readerOf(user: UserId): Promise<Reader> {
    const existing = this.#readers.get(user);
    if (existing !== undefined) {
      await existing.ready;
      return existing;
    }
    // Registered before the query, so a change while it runs is not lost.
    const changedWhileLoading = new Set<string>();
    const reader: Reader = {
      rooms: new Set(),
      connections: new Set(),
      ready: Promise.resolve(),
      changedWhileLoading,
    };
    this.#readers.set(user, reader);
    reader.ready = this.#dependencies.storage.rooms
      .roomsOfUser(user, ["join"])
      .then((members) => {
        for (const member of members) {
          if (!changedWhileLoading.has(member.roomId)) reader.rooms.add(member.roomId);
        }
      })
      .finally(() => {
        reader.changedWhileLoading = null;
      });
    await reader.ready;
    return reader;
  }

  async #sendBacklog(connection: StreamConnection): Promise<void> {
    const { storage, retention, nowMs } = this.#dependencies;
    const first = await storage.inboxes.readStream({
      deviceId: connection.deviceId,
      roomIds: [...connection.reader.rooms],
      limit: Math.min(streamFrameEventsMax, pageSizeMax),
      retention,
      atMs: nowMs(),
    });
    if (first === null || connection.closed) return;
    if (first.missed !== null) {
      connection.sendJson({
        type: "missed",
        count: first.missed.count,
        through: first.missed.throughPosition,
      });
    }
    this.#sendStoredPage(connection, first.events, first.throughPosition);
    await this.#catchUp(connection);
  }

  /** Reads from storage until the socket reaches the ring, then makes it live. */
  async #catchUp(connection: StreamConnection): Promise<void> {
    connection.state = "catching-up";
    const { storage } = this.#dependencies;
    // Bounded: every page moves `sent` forward, and the ring's floor is finite.
    while (!connection.closed && connection.sent < this.#recent.floor) {
      const page = await storage.events.readStream({
        roomIds: [...connection.reader.rooms],
        afterPosition: connection.sent,
        limit: Math.min(streamFrameEventsMax, pageSizeMax),
      });
      if (connection.closed) return;
      this.#sendStoredPage(connection, page.events, page.throughPosition);
      // Storage may be ahead of the ring (a commit not yet published): the
      // socket's `sent` is then ahead too, and the ring's copies of those
      // events are skipped for it when they arrive.
    }
    if (connection.closed) return;
    connection.state = "live";
    this.#dirty.add(connection);
    this.#scheduleFlush();
  }

  #sendStoredPage(
    connection: StreamConnection,
    events: readonly StoredEvent[],
    through: number,
  ): void {
    // Events of rooms left since the read are dropped: leaving takes effect at once.
    const texts = events
      .filter(
        (event) =>
          connection.reader.rooms.has(event.roomId) && event.streamPosition > connection.sent,
      )
      .map(eventJsonText);
    if (through <= connection.sent) return;
    connection.sendFrame(eventsFrame(through, texts));
    this.#dependencies.metrics.messagesOut.inc({ destination: "device" }, texts.length);
    connection.sent = through;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const frames = new Map<string, Buffer>();
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const connection of dirty) {
      if (connection.state !== "live") continue;
      if (connection.socket.bufferedAmount > streamBufferedBytesMax) {
        this.#backedUp.add(connection);
        continue;
      }
      if (connection.sent < this.#recent.floor) {
        void this.#catchUp(connection).catch((error: unknown) => this.#failed(connection, error));
        continue;
      }
      this.#sendRecent(connection, frames);
    }
  }

  /** Sends one frame of what the ring holds for this socket; identical frames are encoded once. */
  #sendRecent(connection: StreamConnection, frames: Map<string, Buffer>): void {
    const texts: string[] = [];
    let key = `${connection.sent}`;
    let lastPosition = connection.sent;
    const rooms = connection.reader.rooms;
    this.#recent.forEachAfter(connection.sent, (event) => {
      if (!rooms.has(event.roomId)) return true;
      texts.push(event.text);
      key += `,${event.position}`;
      lastPosition = event.position;
      return texts.length < streamFrameEventsMax;
    });
    const cut = texts.length >= streamFrameEventsMax;
    const through = cut ? lastPosition : this.#recent.newest;
    if (texts.length === 0) {
      connection.sent = Math.max(connection.sent, through);
      return;
    }
    key += `:${through}`;
    let frame = frames.get(key);
    if (frame === undefined) {
      frame = Buffer.from(eventsFrame(through, texts));
      frames.set(key, frame);
    }
    connection.sendFrame(frame);
    this.#dependencies.metrics.messagesOut.inc({ destination: "device" }, texts.length);
    connection.sent = through;
    if (cut) {
      this.#dirty.add(connection);
      this.#scheduleFlush();
    }
  }

  #retryBackedUp(): void {
    for (const connection of this.#backedUp) {
      if (connection.socket.bufferedAmount <= streamBufferedBytesMax / 2) {
        this.#backedUp.delete(connection);
        this.#dirty.add(connection);
      }
    }
    if (this.#dirty.size > 0) this.#scheduleFlush();
  }

  #acknowledgedOf(deviceId: string): number {
    let newest = 0;
    for (const connection of this.#devices.get(deviceId) ?? []) {
      newest = Math.max(newest, connection.acknowledged);
    }
    return newest;
  }

  #sendToUser(userId: string, frame: string): boolean {
    const connections = this.#readers.get(userId as UserId)?.connections;
    if (connections === undefined || connections.size === 0) return false;
    for (const connection of connections) connection.sendFrame(frame);
    return true;
  }

  #roomReadersOf(roomId: string): Set<StreamConnection> {
    let readers = this.#roomReaders.get(roomId);
    if (readers === undefined) {
      readers = new Set();
      this.#roomReaders.set(roomId, readers);
    }
    return readers;
  }

  #failed(connection: StreamConnection, error: unknown): void {
    this.#dependencies.logger.error({ err: error }, "stream delivery failed");
    connection.socket.close(4500, "internal error");
  }
}
