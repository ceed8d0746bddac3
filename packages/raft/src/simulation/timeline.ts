/**
 * A readable story of one run (elections, crashes, configuration changes,
 * and with --trace the core's own log lines), kept only when a run is
 * replayed verbosely: the fast multi-seed mode pays nothing for it.
 */
import type { Clock } from "@parley/simulation";
import type { NodeId, RaftLogger } from "../index.ts";
import { SILENT_LOGGER } from "../index.ts";

/** Bound on the lines kept: the oldest go first, the moments before a failure stay. */
const timelineLinesMax = 200_000;

export class Timeline {
  private lines: string[] = [];

  constructor(
    private readonly clock: Clock,
    readonly enabled: boolean,
    private readonly coreLogs: boolean,
  ) {}

  note(text: string): void {
    if (!this.enabled) return;
    this.lines.push(`${this.clock.nowMs()} ms  ${text}`);
    if (this.lines.length > timelineLinesMax) this.lines = this.lines.slice(-timelineLinesMax / 2);
  }

  /** The core's log lines for one node, into the timeline when tracing. */
  loggerFor(id: NodeId): RaftLogger {
    if (!this.coreLogs) return SILENT_LOGGER;
    const write = (message: string): void => this.note(`[${id}] ${message}`);
    return { debug: write, info: write, warn: write };
  }

  entries(): readonly string[] {
    return this.lines;
  }
}
