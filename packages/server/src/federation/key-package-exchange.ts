// KeyPackage claims between servers (docs/protocol.md §12.2.2, §13.4): this
// server asks a peer for one KeyPackage of every live device of some of the
// peer's users, and answers the peers that ask it. These frames are about
// users, not rooms, so they bypass the federation core (FederationHost): the
// runtime hands them here, and the rest to the driver.
//
// An asking claim waits for the link to come up (dialling it), sends the
// claim only over a live link (a claim queued for a peer that is away would
// spend one-time packages long after anyone waits for them), and waits for
// the result until its deadline; a result that arrives later is dropped (its
// one-time packages are spent, which §13.4 accepts for a lost result).

import type { KeyPackageClaimFrame, KeyPackageClaimResultFrame } from "@parley/federation";
import { encodeFrame } from "@parley/federation";
import { ParleyError, type ServerName, type UserId } from "@parley/protocol";
import type { Logger } from "../observability/logger.ts";
import { type FederationTransport, noFederationTransport } from "./driver/federation-transport.ts";
import { frameDelivery } from "./driver/frame-delivery.ts";
import type { FrameCounts } from "./frame-counts.ts";
import { answerKeyPackageClaim, type KeyPackageClaimContext } from "./key-package-claims.ts";
import { keyPackageClaimsPendingMax } from "./limits.ts";

export interface KeyPackageExchangeOptions {
  /** How long a claim waits for the link and the peer's answer, together. */
  readonly timeoutMs: number;
  /** Ids must not repeat across restarts (a late result of an old claim must not match): derive from the clock. */
  readonly firstRequestId: number;
  readonly logger: Logger;
  /** Counts the frames this exchange sends, by type (metrics). */
  readonly frameCounts?: FrameCounts;
}

interface PendingClaim {
  /** Null: no answer (timed out, or the server is closing). */
  readonly resolve: (result: KeyPackageClaimResultFrame | null) => void;
  readonly users: ReadonlySet<UserId>;
}

export class KeyPackageExchange {
  readonly #options: KeyPackageExchangeOptions;
  #transport: FederationTransport = noFederationTransport;
  #answering: KeyPackageClaimContext | null = null;
  #nextRequestId: number;
  readonly #pending = new Map<string, PendingClaim>();
  readonly #linkWaiters = new Map<ServerName, Set<() => void>>();
  #closed = false;

  constructor(options: KeyPackageExchangeOptions) {
    this.#options = options;
    this.#nextRequestId = Math.max(1, options.firstRequestId);
  }

  setTransport(transport: FederationTransport): void {
    this.#transport = transport;
  }

  /** Where claims from peers are answered; until set, every user of such a claim is `unavailable`. */
  serve(context: KeyPackageClaimContext): void {
    this.#answering = context;
  }

  /** The link to `peer` is up: claims waiting for it go out. */
  linkUp(peer: ServerName): void {
    const waiters = this.#linkWaiters.get(peer);
    this.#linkWaiters.delete(peer);
    for (const wake of waiters ?? []) wake();
  }

  /**
   * Claims from `peer` for its `users` (1 to 100, distinct). Resolves with the
   * peer's answer, keeping only packages for users asked; rejects with
   * `unavailable` when the peer cannot be reached or does not answer within
   * the timeout. The caller verifies every package (§13.4).
   */
  async claim(peer: ServerName, users: readonly UserId[]): Promise<KeyPackageClaimResultFrame> {
    if (this.#closed) throw new ParleyError("unavailable", "the server is shutting down");
    if (this.#transport === noFederationTransport) {
      throw new ParleyError("unavailable", "this server does not federate with other servers");
    }
    if (this.#pending.size >= keyPackageClaimsPendingMax) {
      throw new ParleyError("unavailable", "too many KeyPackage claims in flight; retry shortly", {
        retryAfterMs: 1000,
      });
    }
    const deadline = Date.now() + this.#options.timeoutMs;
    if (!this.#transport.isUp(peer)) {
      this.#transport.connect(peer);
      const up = await this.#waitForLink(peer, this.#options.timeoutMs);
      if (!up) {
        throw new ParleyError("unavailable", `the server ${peer} cannot be reached now`, {
          retryAfterMs: 5000,
        });
      }
    }
    const requestId = this.#nextRequestId;
    this.#nextRequestId += 1;
    const key = `${peer}\0${requestId}`;
    const frame: KeyPackageClaimFrame = { type: "key-package-claim", requestId, users };
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<KeyPackageClaimResultFrame | null>((resolve) => {
      this.#pending.set(key, { resolve, users: new Set(users) });
      timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
    });
    try {
      this.#options.frameCounts?.sent(frame.type);
      await this.#transport.send(peer, encodeFrame(frame), frameDelivery(frame));
      const result = await answered;
      if (result === null) {
        const reason = this.#closed
          ? "the server is shutting down"
          : `${peer} did not answer in time`;
        throw new ParleyError("unavailable", reason, {
          retryAfterMs: 5000,
        });
      }
      return result;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(key);
    }
  }

  /** A claim or a claim result from the authenticated `peer`. */
  async receive(
    peer: ServerName,
    frame: KeyPackageClaimFrame | KeyPackageClaimResultFrame,
  ): Promise<void> {
    if (frame.type === "key-package-claim-result") {
      const pending = this.#pending.get(`${peer}\0${frame.requestId}`);
      if (pending === undefined) {
        this.#options.logger.debug({ peer }, "a KeyPackage claim result came too late");
        return;
      }
      // A peer answers only for the users asked; anything else is dropped.
      pending.resolve({
        ...frame,
        packages: frame.packages.filter((one) => pending.users.has(one.user)),
        failures: frame.failures.filter((one) => pending.users.has(one.user)),
      });
      return;
    }
    const result = await this.#answer(peer, frame);
    // Resolves once queued durably: the link acknowledges the claim only then.
    this.#options.frameCounts?.sent(result.type);
    await this.#transport.send(peer, encodeFrame(result), frameDelivery(result));
  }

  /** Claims still waiting end `unavailable`; no new ones start. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.resolve(null);
  }

  #answer(peer: ServerName, frame: KeyPackageClaimFrame): Promise<KeyPackageClaimResultFrame> {
    if (this.#answering !== null) return answerKeyPackageClaim(this.#answering, peer, frame);
    return Promise.resolve({
      type: "key-package-claim-result",
      requestId: frame.requestId,
      packages: [],
      failures: frame.users.map((user) => ({
        user,
        code: "unavailable",
        reason: "this server does not hand out KeyPackages",
      })),
    });
  }

  #waitForLink(peer: ServerName, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.#linkWaiters.get(peer) ?? new Set<() => void>();
      this.#linkWaiters.set(peer, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.#linkWaiters.get(peer) === waiters) {
          this.#linkWaiters.delete(peer);
        }
        resolve(this.#transport.isUp(peer));
      }, timeoutMs);
      waiters.add(wake);
    });
  }
}
