import { ensure } from "../misuse.ts";
import type { Random } from "../random/random.ts";
import type { SimulatedScheduler, TimerId } from "../time/scheduler.ts";
import { sampleDurationMs } from "./faults.ts";
import type { EndpointId, PartitionId } from "./links.ts";
import type { SimulatedNetwork } from "./network.ts";

export interface NemesisOptions<Payload> {
  readonly network: SimulatedNetwork<Payload>;
  readonly scheduler: SimulatedScheduler;
  /** The nemesis's own stream (`root.fork("nemesis")`), so its choices never shift the packets'. */
  readonly random: Random;
}

/**
 * Jepsen's name for the process that breaks things on purpose. Every
 * `nemesisIntervalMs` of the network's current fault profile it may start a
 * partition (at most one of its own at a time: half the time one endpoint
 * isolated, otherwise a random split; one-way at the profile's rate) that
 * ends by itself after a random duration, and may clog one direction of one
 * random link.
 *
 * It never takes endpoints down: a crash loses a node's volatile state, which
 * only the simulator can do, so crashes belong to the simulator (with
 * `network.takeDown`). Stop the nemesis and `network.heal()` to enter a
 * liveness phase.
 */
export class Nemesis<Payload> {
  private readonly network: SimulatedNetwork<Payload>;
  private readonly scheduler: SimulatedScheduler;
  private readonly random: Random;
  private timer: TimerId | undefined;
  private partition: PartitionId | undefined;

  constructor(options: NemesisOptions<Payload>) {
    this.network = options.network;
    this.scheduler = options.scheduler;
    this.random = options.random;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    ensure(this.timer === undefined, "the nemesis is already running");
    this.scheduleStep();
  }

  /** Stops starting new faults. Faults already standing stay until they end or `network.heal()`. */
  stop(): void {
    if (this.timer !== undefined) {
      this.scheduler.cancel(this.timer);
      this.timer = undefined;
    }
  }

  private scheduleStep(): void {
    this.timer = this.scheduler.scheduleAfter(this.network.faults.nemesisIntervalMs, () => {
      this.step();
      this.scheduleStep();
    });
  }

  private step(): void {
    const profile = this.network.faults;
    const endpoints = this.network.endpoints();
    if (endpoints.length < 2) {
      return;
    }
    if (this.partition === undefined && this.random.chance(profile.partitionProbability)) {
      this.startPartition(
        endpoints,
        profile.partitionOneWayProbability,
        profile.partitionDurationMsMean,
      );
    }
    if (this.random.chance(profile.clogProbability)) {
      const [from, to] = this.random.shuffle(endpoints);
      if (from !== undefined && to !== undefined) {
        this.network.clog(from, to, sampleDurationMs(this.random, profile.clogDurationMsMean));
      }
    }
  }

  private startPartition(
    endpoints: readonly EndpointId[],
    oneWayProbability: number,
    durationMsMean: number,
  ): void {
    const shuffled = this.random.shuffle(endpoints);
    const cut = this.random.chance(0.5) ? 1 : this.random.integerBetween(1, shuffled.length - 1);
    const sideA = shuffled.slice(0, cut);
    const sideB = shuffled.slice(cut);
    const id = this.random.chance(oneWayProbability)
      ? this.network.partitionOneWay(sideA, sideB)
      : this.network.partition(sideA, sideB);
    this.partition = id;
    this.scheduler.scheduleAfter(sampleDurationMs(this.random, durationMsMean), () => {
      this.network.removePartition(id);
      if (this.partition === id) {
        this.partition = undefined;
      }
    });
  }
}
