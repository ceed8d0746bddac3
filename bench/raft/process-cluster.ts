/**
 * The parent side of the loopback benchmark: starts one node process per
 * member (node-process.ts, run with tsx), wires them up over TCP on
 * 127.0.0.1, elects a leader, runs loads on it, and kills processes for the
 * failover measurement. Every wait has a deadline, and `close()` kills every
 * child and removes the data directory; an exit hook does the killing too if
 * the benchmark dies first.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { killAndWait, registerChild, registerDirectory } from "./children.ts";
import type { ChildReport, NodeProcessOptions, ParentCommand } from "./control.ts";
import type { LoadOptions, LoadResult } from "./load.ts";

const nodeProcessPath = join(dirname(fileURLToPath(import.meta.url)), "node-process.ts");
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const STARTUP_TIMEOUT_MS = 30_000;

/**
 * With PARLEY_BENCH_PROFILE set to a directory, every node process writes a
 * CPU profile there when it is closed (node --cpu-prof), named by its id.
 */
function profileArguments(id: string): string[] {
  const directory = process.env["PARLEY_BENCH_PROFILE"];
  if (directory === undefined || directory === "") return [];
  return ["--cpu-prof", `--cpu-prof-dir=${join(directory, id)}`];
}

export interface ProcessClusterOptions {
  readonly size: number;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly overlapSync: boolean;
  /** Whether the nodes send early messages before their write (NodeProcessOptions). */
  readonly earlyMessages: boolean;
}

interface Member {
  readonly id: string;
  readonly child: ChildProcess;
  role: string;
  term: number;
  alive: boolean;
}

export interface LeaderLoadResult extends LoadResult {
  readonly syncs: number;
  readonly syncMs: number;
  readonly messagesSent: number;
}

export class ProcessCluster {
  private readonly members = new Map<string, Member>();
  private readonly listeners = new Set<(from: string, report: ChildReport) => void>();

  private readonly directoryRegistration: { release(): void };

  private constructor(private readonly directory: string) {
    this.directoryRegistration = registerDirectory(directory);
  }

  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(mkdtempSync(join(tmpdir(), "parley-raft-bench-")));
    try {
      await cluster.launch(options);
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  private async launch(options: ProcessClusterOptions): Promise<void> {
    const ids = Array.from({ length: options.size }, (_, i) => `n${i + 1}`);
    const ports: Record<string, number> = {};
    const listening = ids.map((id) => {
      const nodeOptions: NodeProcessOptions = {
        id,
        peers: ids.filter((other) => other !== id),
        logPath: join(this.directory, `${id}.log`),
        tickMs: options.tickMs,
        electionTimeoutTicks: options.electionTimeoutTicks,
        heartbeatIntervalTicks: options.heartbeatIntervalTicks,
        overlapSync: options.overlapSync,
        earlyMessages: options.earlyMessages,
      };
      const child = fork(nodeProcessPath, [JSON.stringify(nodeOptions)], {
        cwd: repositoryRoot,
        execArgv: ["--import", import.meta.resolve("tsx"), ...profileArguments(id)],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      registerChild(child);
      const member: Member = { id, child, role: "follower", term: 0, alive: true };
      this.members.set(id, member);
      child.on("message", (report: ChildReport) => this.receive(member, report));
      child.once("exit", () => {
        member.alive = false;
      });
      return this.waitFor(id, (report) => {
        if (report.type !== "listening") return false;
        ports[id] = report.port;
        return true;
      });
    });
    await Promise.all(listening);
    const connected = ids.map((id) => this.waitFor(id, (report) => report.type === "connected"));
    for (const id of ids) this.command(id, { type: "connect", ports });
    await Promise.all(connected);
  }

  private receive(member: Member, report: ChildReport): void {
    if (report.type === "role") {
      member.role = report.role;
      member.term = report.term;
    }
    for (const listener of [...this.listeners]) listener(member.id, report);
  }

  private command(id: string, command: ParentCommand): void {
    const member = this.members.get(id);
    if (member?.alive === true) member.child.send(command);
  }

  /** Resolves with the first report from `id` (any member if null) that `accept` takes. */
  private waitFor(
    id: string | null,
    accept: (report: ChildReport, from: string) => boolean,
    timeoutMs = STARTUP_TIMEOUT_MS,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${id ?? "a node"}`));
      }, timeoutMs);
      const listener = (from: string, report: ChildReport) => {
        if ((id !== null && from !== id) || !accept(report, from)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(from);
      };
      this.listeners.add(listener);
    });
  }

  /** The current leader's id, if a live member reports leading. */
  leader(): string | null {
    let best: Member | null = null;
    for (const member of this.members.values()) {
      if (member.alive && member.role === "leader" && (best === null || member.term > best.term)) {
        best = member;
      }
    }
    return best?.id ?? null;
  }

  /** Makes the first member campaign and waits until some member leads. */
  async elect(): Promise<string> {
    const existing = this.leader();
    if (existing !== null) return existing;
    const elected = this.waitFor(
      null,
      (report) => report.type === "role" && report.role === "leader",
    );
    this.command("n1", { type: "campaign" });
    return elected;
  }

  /** Runs one load on the leader and returns what it measured. */
  async load(options: LoadOptions, run: number): Promise<LeaderLoadResult> {
    const leader = this.leader() ?? (await this.elect());
    let result: LeaderLoadResult | null = null;
    let refusal: string | null = null;
    const finished = this.waitFor(
      leader,
      (report) => {
        if (report.type === "loadResult") {
          result = {
            ...report.result,
            syncs: report.syncs,
            syncMs: report.syncMs,
            messagesSent: report.messagesSent,
          };
          return true;
        }
        if (report.type === "loadRefused") {
          refusal = report.reason;
          return true;
        }
        return false;
      },
      options.durationMs + STARTUP_TIMEOUT_MS,
    );
    this.command(leader, { type: "load", options, run });
    await finished;
    if (result === null) throw new Error(`load refused: ${refusal ?? "no answer"}`);
    return result;
  }

  /**
   * Kills the leader with SIGKILL and returns the milliseconds until a
   * surviving member, as the new leader, has committed a proposal.
   */
  async failover(timeoutMs: number): Promise<number> {
    const leader = this.leader() ?? (await this.elect());
    const survivors = [...this.members.values()].filter((m) => m.alive && m.id !== leader);
    const committed = this.waitFor(
      null,
      (report, from) => report.type === "probeCommitted" && from !== leader,
      timeoutMs,
    );
    const start = performance.now();
    this.members.get(leader)?.child.kill("SIGKILL");
    for (const survivor of survivors) this.command(survivor.id, { type: "probe" });
    await committed;
    return performance.now() - start;
  }

  /** Kills every child, waits for them to exit, and removes the data directory. */
  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([...this.members.values()].map((member) => killAndWait(member.child)));
    rmSync(this.directory, { recursive: true, force: true, maxRetries: 3 });
    this.directoryRegistration.release();
  }
}
