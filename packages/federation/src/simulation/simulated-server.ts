import { concatBytes, type ServerName, sha256 } from "@parley/protocol";
import type { Random, SimulatedNetwork, SimulatedScheduler } from "@parley/simulation";
import { sharedSecretKeys } from "../control-lane/shared-secret-keys.ts";
import type { Frame } from "../frames/frame.ts";
import { decodeFrame, encodeFrame } from "../frames/frame-codec.ts";
import type { FederationEffects } from "../host/effects.ts";
import { FederationHost } from "../host/federation-host.ts";
import { MemoryFederationStorage } from "../host/federation-storage.ts";
import type { Scenario } from "./scenario.ts";

/** What travels on the simulated network: frames, and the link layer's liveness probes. */
export type WirePayload =
  | { readonly kind: "frame"; readonly frame: Frame; readonly bytes: Uint8Array | null }
  | { readonly kind: "probe" }
  /** `life` numbers the answering process: a new one means the old connection died with it. */
  | { readonly kind: "probe-answer"; readonly life: number };

/** Where a server reports what happens, for the invariant checks. */
export interface ServerObserver {
  effects(server: SimulatedServer, effects: FederationEffects): void;
  received(server: SimulatedServer, from: ServerName, frame: Frame, sentAtMs: number): void;
}

const secretLabel = new TextEncoder().encode("parley simulation certificate secret ");

/** Every simulated server's certificate secret, derived from its name. */
export function simulationSecretOf(server: ServerName): Uint8Array {
  return sha256(concatBytes(secretLabel, new TextEncoder().encode(server)));
}

export interface ServerEnvironment {
  readonly scheduler: SimulatedScheduler;
  readonly network: SimulatedNetwork<WirePayload>;
  readonly scenario: Scenario;
  readonly observer: ServerObserver;
  readonly peers: () => readonly ServerName[];
}

/**
 * One homeserver in the simulation: a FederationHost over in-memory storage
 * (the storage is its disk and survives crashes; everything else is lost), a
 * tick timer, and the link layer a real transport would provide: a link is
 * up while probes to the peer are answered (a round trip, so a one-way cut
 * takes the link down on both sides, as it does a TCP connection), and frames
 * are sent only over up links (a real server queues them durably; that queue
 * is out of this package's scope). A frame that arrives is always taken: the
 * two ends of a link notice it come up at slightly different times.
 */
export class SimulatedServer {
  readonly name: ServerName;
  readonly storage = new MemoryFederationStorage();
  host: FederationHost | null = null;
  #life = 0;
  readonly #random: Random;
  readonly #environment: ServerEnvironment;
  readonly #answeredAtMs = new Map<ServerName, number>();
  readonly #peerLives = new Map<ServerName, number>();
  #probedAtMs = Number.NEGATIVE_INFINITY;
  readonly #up = new Set<ServerName>();
  framesDroppedLinkDown = 0;

  constructor(name: ServerName, environment: ServerEnvironment, random: Random) {
    this.name = name;
    this.#environment = environment;
    this.#random = random;
    environment.network.register(name, (packet) =>
      this.#deliver(packet.from as ServerName, packet.payload, packet.sentAtMs),
    );
  }

  get isRunning(): boolean {
    return this.host !== null;
  }

  linkIsUp(peer: ServerName): boolean {
    return this.#up.has(peer);
  }

  start(): void {
    const { scheduler, network, scenario } = this.#environment;
    this.#life += 1;
    const life = this.#life;
    const jitter = this.#random.fork(`raft#${life}`);
    this.host = new FederationHost({
      self: this.name,
      clock: scheduler,
      random: { nextInt: (bound) => jitter.integerBelow(bound) },
      storage: this.storage,
      keys: sharedSecretKeys(this.name, simulationSecretOf),
      timing: {
        linkStateRefreshTicks: scenario.linkStateRefreshTicks,
        attachRefreshTicks: scenario.attachRefreshTicks,
        attachExpiryTicks: scenario.attachExpiryTicks,
      },
    });
    this.#up.clear();
    this.#answeredAtMs.clear();
    this.#peerLives.clear();
    network.bringUp(this.name);
    const phase = 1 + this.#random.integerBelow(scenario.tickMs);
    scheduler.scheduleAfter(phase, () => this.#tick(life));
  }

  crash(): void {
    if (this.host === null) return;
    this.#life += 1;
    this.host = null;
    this.#up.clear();
    this.#environment.network.takeDown(this.name);
  }

  /** Runs one input on the host and carries out its effects. */
  run(input: (host: FederationHost) => FederationEffects): void {
    const host = this.host;
    if (host === null) return;
    this.#carryOut(input(host));
  }

  #tick(life: number): void {
    if (life !== this.#life || this.host === null) return;
    const { scheduler, network, scenario } = this.#environment;
    const now = scheduler.nowMs();
    const probing = now - this.#probedAtMs >= scenario.probeMs;
    if (probing) this.#probedAtMs = now;
    for (const peer of this.#environment.peers()) {
      if (peer === this.name) continue;
      if (probing) network.send(this.name, peer, { kind: "probe" });
      const answered = this.#answeredAtMs.get(peer);
      if (
        this.#up.has(peer) &&
        (answered === undefined || now - answered > scenario.linkTimeoutMs)
      ) {
        this.#up.delete(peer);
        this.run((host) => host.linkDown(peer));
      }
    }
    this.run((host) => host.tick());
    scheduler.scheduleAfter(scenario.tickMs, () => this.#tick(life));
  }

  #deliver(from: ServerName, payload: WirePayload, sentAtMs: number): void {
    if (this.host === null) return;
    if (payload.kind === "probe") {
      this.#environment.network.send(this.name, from, { kind: "probe-answer", life: this.#life });
      return;
    }
    if (payload.kind === "probe-answer") {
      const life = this.#peerLives.get(from) ?? payload.life;
      if (payload.life < life) return;
      this.#peerLives.set(from, payload.life);
      if (payload.life > life && this.#up.has(from)) {
        // The peer restarted: a real connection would have broken with it.
        this.#up.delete(from);
        this.run((host) => host.linkDown(from));
      }
      this.#answeredAtMs.set(from, this.#environment.scheduler.nowMs());
      if (!this.#up.has(from)) {
        this.#up.add(from);
        this.run((host) => host.linkUp(from));
      }
      return;
    }
    const frame = payload.bytes === null ? payload.frame : decodeFrame(payload.bytes);
    this.#environment.observer.received(this, from, frame, sentAtMs);
    this.run((host) =>
      payload.bytes === null ? host.receiveFrame(from, frame) : host.receive(from, payload.bytes),
    );
  }

  #carryOut(effects: FederationEffects): void {
    // The simulated disk is durable as soon as written, so `mustSync` needs no action.
    this.#environment.observer.effects(this, effects);
    const encode = this.#environment.scenario.encodeFrames;
    for (const { to, frame } of effects.frames) {
      if (!this.#up.has(to)) {
        this.framesDroppedLinkDown += 1;
        continue;
      }
      const bytes = encode ? encodeFrame(frame) : null;
      this.#environment.network.send(this.name, to, { kind: "frame", frame, bytes });
    }
  }
}
