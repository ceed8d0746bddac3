/**
 * The control messages between the benchmark (parent) and its node processes
 * (children), over Node's IPC channel. Raft traffic never goes this way: it
 * goes over TCP between the children.
 */
import type { LoadOptions, LoadResult } from "./load.ts";

/** What a node process is started with (JSON in its first argument). */
export interface NodeProcessOptions {
  readonly id: string;
  readonly peers: readonly string[];
  readonly logPath: string;
  /** Milliseconds per Raft tick. */
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  /**
   * fdatasync on the thread pool while the event loop goes on stepping
   * messages (README: requests may be made between ready() and advance()),
   * instead of blocking the loop.
   */
  readonly overlapSync: boolean;
  /**
   * Send each Ready's early messages (the leader's appends) before its
   * write; without, they wait for the sync like the rest (for comparison).
   */
  readonly earlyMessages: boolean;
}

export type ParentCommand =
  | { readonly type: "connect"; readonly ports: Readonly<Record<string, number>> }
  | { readonly type: "campaign" }
  | { readonly type: "load"; readonly options: LoadOptions; readonly run: number }
  /** Failover: from now on, propose one probe whenever this node leads, and report its commit. */
  | { readonly type: "probe" };

export type ChildReport =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "connected" }
  | { readonly type: "role"; readonly role: string; readonly term: number }
  | {
      readonly type: "loadResult";
      readonly result: LoadResult;
      /** fdatasync calls and messages sent by the leader during the run, to show batching. */
      readonly syncs: number;
      readonly syncMs: number;
      readonly messagesSent: number;
    }
  | { readonly type: "loadRefused"; readonly reason: string }
  | { readonly type: "probeCommitted"; readonly term: number };
