// Puts a peer's stored durable frames on its current link, in sequence order,
// within a window of unacknowledged frames and socket buffer bytes; starts
// again from the first unacknowledged frame on every new link and when
// acknowledgements stop coming (go-back-N); deletes acknowledged frames
// behind the acknowledgements, one delete at a time per peer.

import type { ServerName } from "@parley/protocol";
import type { Logger } from "../../observability/logger.ts";
import type { LinkLimits } from "./limits.ts";
import type { LinkConnection } from "./link-connection.ts";
import type { LinkClock, LinkTimers } from "./link-environment.ts";
import type { LinkMetrics } from "./link-metrics.ts";
import type { PeerOutbound } from "./outbound-queue.ts";
import type { LinkQueueStorage } from "./storage/link-queue-storage.ts";

export interface PumpDependencies {
  readonly storage: LinkQueueStorage;
  readonly limits: LinkLimits;
  readonly clock: LinkClock;
  readonly timers: LinkTimers;
  readonly metrics: LinkMetrics;
  readonly logger: Logger;
  /** The peer's authenticated link now, if any. */
  current(peer: string): LinkConnection | null;
}

/** How soon a pump stopped by a full socket buffer looks again. */
const bufferRecheckMs = 5;

export class OutboundPump {
  readonly #dependencies: PumpDependencies;
  readonly #pumping = new Set<PeerOutbound>();
  readonly #again = new Set<PeerOutbound>();
  readonly #deleted = new Map<PeerOutbound, number>();
  readonly #deleting = new Set<PeerOutbound>();

  constructor(dependencies: PumpDependencies) {
    this.#dependencies = dependencies;
  }

  /** A new link to the peer: what it says it received is acknowledged, and sending starts after it. */
  linkStarted(outbound: PeerOutbound, peerReceivedSequence: number): void {
    const nowMs = this.#dependencies.clock.nowMs();
    // A peer that received more than this server ever numbered saw an earlier
    // life of it (storage lost): numbering continues after the peer's mark, or
    // new frames would look like duplicates to it.
    if (peerReceivedSequence > outbound.lastSequence && outbound.queuedFrames === 0) {
      outbound.skipTo(peerReceivedSequence);
    }
    const received = Math.min(peerReceivedSequence, outbound.lastSequence);
    if (outbound.acknowledge(received, nowMs)) this.acknowledged(outbound);
    outbound.nextToSend = outbound.acknowledged + 1;
    outbound.progressAtMs = nowMs;
  }

  /** Frames were acknowledged: delete them from the database behind the acknowledgement. */
  acknowledged(outbound: PeerOutbound): void {
    void this.#deleteAcknowledged(outbound);
  }

  /** Called each heartbeat: resend from the first unacknowledged frame if acknowledgements stalled. */
  checkRetransmit(outbound: PeerOutbound, connection: LinkConnection): void {
    const nowMs = this.#dependencies.clock.nowMs();
    if (outbound.inFlightFrames === 0) {
      outbound.progressAtMs = nowMs;
      return;
    }
    if (nowMs - outbound.progressAtMs < this.#dependencies.limits.retransmitTimeoutMs) return;
    this.#dependencies.logger.warn(
      { peer: outbound.peer, fromSequence: outbound.acknowledged + 1 },
      "durable frames unacknowledged too long; sending them again",
    );
    outbound.nextToSend = outbound.acknowledged + 1;
    outbound.progressAtMs = nowMs;
    this.pump(outbound, connection);
  }

  pump(outbound: PeerOutbound, connection: LinkConnection | null): void {
    if (connection === null || !connection.authenticated) return;
    if (this.#pumping.has(outbound)) {
      this.#again.add(outbound);
      return;
    }
    this.#pumping.add(outbound);
    this.#run(outbound)
      .catch((error: unknown) =>
        this.#dependencies.logger.error(
          { err: error, peer: outbound.peer },
          "sending durable frames failed",
        ),
      )
      .finally(() => this.#pumping.delete(outbound));
  }

  async #run(outbound: PeerOutbound): Promise<void> {
    const { limits, storage, metrics } = this.#dependencies;
    const page = new Map<number, Uint8Array>();
    do {
      this.#again.delete(outbound);
      for (;;) {
        const current = this.#dependencies.current(outbound.peer);
        if (current === null || !current.authenticated) return;
        const sequence = outbound.nextToSend;
        if (sequence > outbound.lastSequence || outbound.inFlightFrames >= limits.inFlightFramesMax)
          break;
        if (current.bufferedAmount > limits.inFlightBytesMax) {
          this.#dependencies.timers.setTimeout(
            () => this.pump(outbound, this.#dependencies.current(outbound.peer)),
            bufferRecheckMs,
          );
          break;
        }
        let payload = outbound.inMemory(sequence) ?? page.get(sequence);
        if (payload === undefined) {
          page.clear();
          for (const row of await storage.read(
            outbound.peer,
            sequence,
            limits.queueReadPageFrames,
          )) {
            page.set(row.sequence, row.payload);
          }
          payload = page.get(sequence);
          if (outbound.nextToSend !== sequence) continue; // A new link or an acknowledgement moved the start.
          if (payload === undefined) {
            throw new Error(
              `durable frame ${sequence} for ${outbound.peer} is missing from storage`,
            );
          }
        }
        current.send({ kind: "durable", sequence, payload });
        outbound.nextToSend = sequence + 1;
        metrics.frames.inc({ direction: "out", delivery: "durable" });
        metrics.bytes.inc({ direction: "out" }, payload.byteLength);
      }
    } while (this.#again.has(outbound));
  }

  async #deleteAcknowledged(outbound: PeerOutbound): Promise<void> {
    if (this.#deleting.has(outbound)) return;
    this.#deleting.add(outbound);
    try {
      for (;;) {
        const target = outbound.acknowledged;
        if (target <= (this.#deleted.get(outbound) ?? 0)) break;
        await this.#dependencies.storage.deleteThrough(outbound.peer as ServerName, target);
        this.#deleted.set(outbound, target);
      }
    } catch (error) {
      // The frames stay stored and go out again after a restart; the receiver's mark drops them.
      this.#dependencies.logger.error(
        { err: error, peer: outbound.peer },
        "cannot delete acknowledged frames",
      );
    } finally {
      this.#deleting.delete(outbound);
    }
  }

  /** Resolves when no delete is running. */
  /** Sends a best-effort frame on `current` if it is authenticated and not backed up; else drops it. */
  sendBestEffort(current: LinkConnection | null, bytes: Uint8Array): void {
    const { metrics, limits } = this.#dependencies;
    if (
      current === null ||
      !current.authenticated ||
      current.bufferedAmount > limits.inFlightBytesMax
    ) {
      metrics.frames.inc({ direction: "out", delivery: "dropped" });
      return;
    }
    current.send({ kind: "best-effort", payload: bytes });
    metrics.frames.inc({ direction: "out", delivery: "best-effort" });
    metrics.bytes.inc({ direction: "out" }, bytes.byteLength);
  }

  async idle(): Promise<void> {
    for (let attempt = 0; attempt < 1000 && this.#deleting.size > 0; attempt += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
