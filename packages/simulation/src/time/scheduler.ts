import { schedulerCancelledEventsBeforeCompaction, schedulerEventsPerRunMax } from "../limits.ts";
import { ensure, SimulationMisuseError } from "../misuse.ts";
import { BinaryHeap } from "./binary-heap.ts";
import type { Clock } from "./clock.ts";

/** Why a `run*` call returned. */
export type RunStop =
  /** No event is pending. */
  | "idle"
  /** Every event up to the requested time has run and the clock stands at that time. */
  | "time-reached"
  /** The event budget of the call ran out; events remain (a livelock, or too small a budget). */
  | "event-limit";

export interface RunResult {
  readonly eventsRun: number;
  readonly stoppedBecause: RunStop;
}

export interface SchedulerOptions {
  /** The virtual time at creation, in whole milliseconds; 0 unless given. */
  readonly startMs?: number;
}

/**
 * One scheduled event. Callers hold it only as a `TimerId`, to cancel it;
 * the scheduler reads its fields.
 */
class ScheduledEvent {
  /** Neither run nor cancelled yet. */
  pending = true;

  constructor(
    readonly timeMs: number,
    /** Insertion order: breaks ties between events at the same time, first scheduled first run. */
    readonly sequence: number,
    readonly action: () => void,
  ) {}
}

/** Names one scheduled event, for `cancel`: the event itself, so cancelling needs no lookup. */
export type TimerId = ScheduledEvent;

/**
 * Virtual time and an event queue: the whole of a simulation's notion of "when".
 *
 * Events run in (time, insertion sequence) order, so two events at the same
 * millisecond always run in the order they were scheduled, on every run. The
 * clock jumps straight to the next event's time; nothing runs in real time.
 * Times are whole milliseconds, so traces read plainly and no rounding differs
 * between machines. An action may schedule and cancel events (at the current
 * time or later) but may not call a `run*` method: the scheduler is not reentrant.
 * Every `run*` call stops after a bounded number of events and says why.
 */
export class SimulatedScheduler implements Clock {
  private currentMs: number;
  private nextSequence = 0;
  private cancelledInHeap = 0;
  private running = false;
  private eventsRunCount = 0;
  private pendingEvents = 0;
  private readonly heap = new BinaryHeap<ScheduledEvent>(
    (a, b) => a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.sequence < b.sequence),
  );

  constructor(options: SchedulerOptions = {}) {
    const startMs = options.startMs ?? 0;
    ensureWholeMilliseconds(startMs, "startMs");
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  /** Events scheduled and neither run nor cancelled. */
  get pendingCount(): number {
    return this.pendingEvents;
  }

  /** Events run since creation, across all `run*` calls. */
  get eventsRunTotal(): number {
    return this.eventsRunCount;
  }

  /** The time of the next event to run, or undefined when idle. */
  nextEventTimeMs(): number | undefined {
    return this.peekLive()?.timeMs;
  }

  /** Runs `action` at `timeMs`, which must be now or later. */
  scheduleAt(timeMs: number, action: () => void): TimerId {
    // Checked without building the message: this runs for every event.
    if (!Number.isSafeInteger(timeMs)) failWholeMilliseconds(timeMs, "timeMs");
    if (timeMs < this.currentMs) {
      throw new SimulationMisuseError(
        `cannot schedule at ${timeMs} ms, before now (${this.currentMs} ms)`,
      );
    }
    const event = new ScheduledEvent(timeMs, this.nextSequence, action);
    this.nextSequence += 1;
    this.heap.push(event);
    this.pendingEvents += 1;
    return event;
  }

  /** Runs `action` `delayMs` (≥ 0) from now; a zero delay runs after what is already due now. */
  scheduleAfter(delayMs: number, action: () => void): TimerId {
    if (!Number.isSafeInteger(delayMs)) failWholeMilliseconds(delayMs, "delayMs");
    if (delayMs < 0) throw new SimulationMisuseError(`delay must be ≥ 0, got ${delayMs}`);
    return this.scheduleAt(this.currentMs + delayMs, action);
  }

  /** Cancels a pending event; answers whether it was still pending (false once run or cancelled). */
  cancel(id: TimerId): boolean {
    if (!id.pending) {
      return false;
    }
    id.pending = false;
    this.pendingEvents -= 1;
    this.cancelledInHeap += 1;
    if (
      this.cancelledInHeap > schedulerCancelledEventsBeforeCompaction &&
      this.cancelledInHeap > this.pendingEvents
    ) {
      this.heap.retain((candidate) => candidate.pending);
      this.cancelledInHeap = 0;
    }
    return true;
  }

  /** Runs at most `eventsMax` events, whatever their time. */
  runEvents(eventsMax: number): RunResult {
    return this.run(Number.POSITIVE_INFINITY, eventsMax);
  }

  /**
   * Runs every event due at or before `timeMs`, then sets the clock to
   * `timeMs`, unless `eventsMax` events ran first (the clock then stands at
   * the last event run).
   */
  runUntil(timeMs: number, eventsMax: number = schedulerEventsPerRunMax): RunResult {
    ensureWholeMilliseconds(timeMs, "timeMs");
    ensure(
      timeMs >= this.currentMs,
      `cannot run until ${timeMs} ms, before now (${this.currentMs} ms)`,
    );
    const result = this.run(timeMs, eventsMax);
    if (result.stoppedBecause !== "event-limit") {
      this.currentMs = timeMs;
      return { eventsRun: result.eventsRun, stoppedBecause: "time-reached" };
    }
    return result;
  }

  /** Runs events until none is pending, or `eventsMax` have run. */
  runUntilIdle(eventsMax: number = schedulerEventsPerRunMax): RunResult {
    return this.run(Number.POSITIVE_INFINITY, eventsMax);
  }

  private run(untilMs: number, eventsMax: number): RunResult {
    ensure(
      Number.isSafeInteger(eventsMax) && eventsMax >= 0 && eventsMax <= schedulerEventsPerRunMax,
      `eventsMax must be an integer in [0, ${schedulerEventsPerRunMax}], got ${eventsMax}`,
    );
    ensure(!this.running, "the scheduler is not reentrant: an action called run*");
    this.running = true;
    try {
      for (let eventsRun = 0; eventsRun < eventsMax; eventsRun += 1) {
        const next = this.peekLive();
        if (next === undefined) {
          return { eventsRun, stoppedBecause: "idle" };
        }
        if (next.timeMs > untilMs) {
          return { eventsRun, stoppedBecause: "time-reached" };
        }
        this.heap.pop();
        next.pending = false;
        this.pendingEvents -= 1;
        this.currentMs = next.timeMs;
        this.eventsRunCount += 1;
        next.action();
      }
      const next = this.peekLive();
      if (next === undefined) {
        return { eventsRun: eventsMax, stoppedBecause: "idle" };
      }
      if (next.timeMs > untilMs) {
        return { eventsRun: eventsMax, stoppedBecause: "time-reached" };
      }
      return { eventsRun: eventsMax, stoppedBecause: "event-limit" };
    } finally {
      this.running = false;
    }
  }

  /** The next live event, discarding cancelled ones from the top of the heap. */
  private peekLive(): ScheduledEvent | undefined {
    // Each iteration removes one cancelled event, so this ends within heap size.
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      if (top.pending) {
        return top;
      }
      this.heap.pop();
      this.cancelledInHeap -= 1;
    }
    return undefined;
  }
}

function ensureWholeMilliseconds(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) failWholeMilliseconds(value, name);
}

function failWholeMilliseconds(value: number, name: string): never {
  throw new SimulationMisuseError(`${name} must be a whole number of milliseconds, got ${value}`);
}
