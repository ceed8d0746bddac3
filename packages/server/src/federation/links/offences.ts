// Who is refused for misbehaving: an authenticated peer that breaks the
// protocol is refused as a server for a growing period; an address whose
// handshakes fail is counted and refused once it fails too often
// (throttle.ts holds the periods). Every offence is counted by its code.

import type { ErrorCode, ServerName } from "@parley/protocol";
import type { Logger } from "../../observability/logger.ts";
import type { LinkLimits } from "./limits.ts";
import type { LinkConnection } from "./link-connection.ts";
import type { LinkClock } from "./link-environment.ts";
import type { LinkMetrics } from "./link-metrics.ts";
import { Throttle } from "./throttle.ts";

export class Offences {
  readonly #throttle: Throttle;
  readonly #clock: LinkClock;
  readonly #metrics: LinkMetrics;
  readonly #logger: Logger;

  constructor(limits: LinkLimits, clock: LinkClock, metrics: LinkMetrics, logger: Logger) {
    this.#throttle = new Throttle(limits);
    this.#clock = clock;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** How long `peer` is still refused as a server (0: not refused). */
  serverRefusedForMs(peer: ServerName): number {
    return this.#throttle.refusedForMs(`server:${peer}`, this.#clock.nowMs());
  }

  /** How long connections from `address` are still refused (0: not refused). */
  addressRefusedForMs(address: string): number {
    return this.#throttle.refusedForMs(`address:${address}`, this.#clock.nowMs());
  }

  /** `connection` broke the protocol with `code`: penalize its server, or its address before authentication. */
  record(connection: LinkConnection, code: ErrorCode): void {
    this.#metrics.refusals.inc({ code });
    const nowMs = this.#clock.nowMs();
    if (connection.authenticated && connection.peer !== null) {
      const periodMs = this.#throttle.penalize(`server:${connection.peer}`, nowMs);
      this.#logger.warn(
        { peer: connection.peer, code, periodMs },
        "federation peer sent a bad frame; refused for a while",
      );
    } else if (connection.role === "responder") {
      this.#throttle.countFailure(`address:${connection.remoteAddress}`, nowMs);
      this.#logger.info(
        { address: connection.remoteAddress, claimed: connection.peer, code },
        "federation handshake refused",
      );
    }
  }
}
