/**
 * Simulated clients: each runs one operation at a time against the group —
 * put or get on a register, append to or read an append-only log — and
 * records it in the history the linearizability checkers read.
 *
 * A client sends its request to some member, waits, and on a "retry"
 * answer or a timeout sends the same (client, sequence) again, to another
 * member. After its last attempt it gives up: the operation's outcome is
 * unknown (it may still take effect later), and the next operation gets the
 * next sequence number.
 */
import {
  type HistoryRecorder,
  type LogCall,
  type LogResult,
  type Random,
  type RegisterCall,
  type RegisterResult,
  type SimulatedNetwork,
  type SimulatedScheduler,
  sampleExponential,
  type TimerId,
} from "@parley/simulation";
import type { NodeId } from "../index.ts";
import type { ClientEnvelope, ClientReply, RequestPath } from "./client-protocol.ts";
import type { CommandResult, RequestCommand, SessionCommand } from "./command.ts";
import type { Scenario } from "./scenario.ts";

/** Bound on a client's operations in one run, whatever the duration. */
const operationsPerClientMax = 5_000;

export interface ClientEnvironment {
  readonly scheduler: SimulatedScheduler;
  readonly network: SimulatedNetwork<ClientEnvelope>;
  readonly scenario: Scenario;
  readonly registers: HistoryRecorder<RegisterCall, RegisterResult>;
  readonly logs: HistoryRecorder<LogCall, LogResult>;
  /** The members a client may ask (a directory service). */
  readonly members: () => readonly NodeId[];
}

export interface ClientStatistics {
  operations: number;
  completed: number;
  gaveUp: number;
  attempts: number;
}

interface CurrentOperation {
  readonly command: RequestCommand;
  readonly path: RequestPath;
  /** Where the operation is recorded; "none" for the session registration. */
  readonly historyId: number;
  readonly history: "register" | "log" | "none";
  attempts: number;
  requestId: number;
  timer: TimerId | undefined;
}

export class SimulatedClient {
  private sequence = 0;
  private nextRequestId = 1;
  private current: CurrentOperation | null = null;
  private preferred: NodeId | null = null;
  private issuing = false;
  private registered = false;

  constructor(
    readonly name: string,
    private readonly env: ClientEnvironment,
    private readonly random: Random,
    private readonly statistics: ClientStatistics,
  ) {
    env.network.register(name, (packet) => {
      if (packet.payload.type === "reply") this.receive(packet.from as NodeId, packet.payload);
    });
  }

  start(): void {
    this.issuing = true;
    this.scheduleNext();
  }

  /** No new operations; the one under way may still finish. */
  stopIssuing(): void {
    this.issuing = false;
  }

  private scheduleNext(): void {
    if (!this.issuing || this.sequence >= operationsPerClientMax) return;
    const thinkMs = Math.round(sampleExponential(this.random, this.env.scenario.clientThinkMsMean));
    this.env.scheduler.scheduleAfter(thinkMs, () => {
      if (this.issuing) this.begin();
    });
  }

  private begin(): void {
    if (!this.registered) {
      this.beginRegistration();
      return;
    }
    const scenario = this.env.scenario;
    this.sequence += 1;
    const useLog = scenario.logKeys > 0 && this.random.chance(0.4);
    const isRead = this.random.chance(scenario.readShare);
    const path: RequestPath =
      isRead && this.random.chance(scenario.readIndexShare) ? "readIndex" : "log";
    // One operation at a time: every earlier answer arrived or was given up on.
    const base = {
      client: this.name,
      sequence: this.sequence,
      firstUnacknowledged: this.sequence,
      timeMs: this.env.scheduler.nowMs(),
    };
    const value = `${this.name}:${this.sequence}`;
    let command: SessionCommand;
    let historyId: number;
    if (useLog) {
      const key = `log${this.random.integerBelow(scenario.logKeys)}`;
      command = isRead ? { kind: "read", ...base, key } : { kind: "append", ...base, key, value };
      const call: LogCall = isRead
        ? { kind: "read", log: key }
        : { kind: "append", log: key, entry: value };
      historyId = this.env.logs.invoke(this.name, call);
    } else {
      const key = `key${this.random.integerBelow(scenario.registerKeys)}`;
      command = isRead ? { kind: "get", ...base, key } : { kind: "put", ...base, key, value };
      const call: RegisterCall = isRead ? { kind: "get", key } : { kind: "put", key, value };
      historyId = this.env.registers.invoke(this.name, call);
    }
    this.statistics.operations += 1;
    this.current = {
      command,
      path,
      historyId,
      history: useLog ? "log" : "register",
      attempts: 0,
      requestId: 0,
      timer: undefined,
    };
    this.attempt();
  }

  /** A session first: the client's commands are refused without one. */
  private beginRegistration(): void {
    this.current = {
      command: { kind: "register", client: this.name, timeMs: this.env.scheduler.nowMs() },
      path: "log",
      historyId: -1,
      history: "none",
      attempts: 0,
      requestId: 0,
      timer: undefined,
    };
    this.attempt();
  }

  private attempt(): void {
    const operation = this.current;
    if (operation === null) return;
    if (operation.attempts >= this.env.scenario.clientAttemptsMax) {
      // Unknown outcome: the history leaves it open.
      if (operation.history !== "none") this.statistics.gaveUp += 1;
      this.finish();
      return;
    }
    const members = this.env.members();
    if (members.length === 0) {
      operation.timer = this.env.scheduler.scheduleAfter(this.env.scenario.tickMs, () => {
        if (this.current === operation) this.attempt();
      });
      return;
    }
    const target =
      this.preferred !== null && members.includes(this.preferred) && operation.attempts === 0
        ? this.preferred
        : this.random.pick(members);
    operation.attempts += 1;
    operation.requestId = this.nextRequestId;
    this.nextRequestId += 1;
    this.statistics.attempts += 1;
    this.env.network.send(this.name, target, {
      type: "request",
      requestId: operation.requestId,
      client: this.name,
      command: operation.command,
      path: operation.path,
    });
    const requestId = operation.requestId;
    operation.timer = this.env.scheduler.scheduleAfter(
      this.env.scenario.clientAttemptTimeoutMs,
      () => {
        if (this.current === operation && operation.requestId === requestId) this.attempt();
      },
    );
  }

  private receive(from: NodeId, reply: ClientReply): void {
    const operation = this.current;
    // Only the latest attempt's answer counts; earlier ones were given up on.
    if (operation === null || reply.requestId !== operation.requestId) return;
    if (operation.timer !== undefined) this.env.scheduler.cancel(operation.timer);
    if (reply.outcome.status === "retry") {
      const backoffMs = this.random.integerBetween(1, this.env.scenario.tickMs * 2);
      operation.timer = this.env.scheduler.scheduleAfter(backoffMs, () => {
        if (this.current === operation) this.attempt();
      });
      return;
    }
    this.preferred = from;
    if (operation.history === "none") {
      this.registered = true;
    } else {
      this.record(operation, reply.outcome.result);
      this.statistics.completed += 1;
    }
    this.finish();
  }

  private record(operation: CurrentOperation, result: CommandResult): void {
    if (operation.history === "register") {
      this.env.registers.complete(
        operation.historyId,
        result.kind === "get" ? { kind: "get", value: result.value } : { kind: "put" },
      );
    } else {
      this.env.logs.complete(
        operation.historyId,
        result.kind === "read" ? { kind: "read", entries: result.entries } : { kind: "append" },
      );
    }
  }

  private finish(): void {
    this.current = null;
    this.scheduleNext();
  }
}
