/**
 * A server's side of the client protocol: proposes writes (and reads through
 * the log) and answers once it applies them; serves ReadIndex reads once its
 * state machine has caught up with the read index. Everything here is
 * volatile: a crash forgets it, and clients retry.
 *
 * Each client has at most one request outstanding, so the tables are keyed
 * by client and bounded by the number of clients.
 */
import type { RawNode, ReadState } from "../index.ts";
import type { ClientReply, ClientRequest, ReplyOutcome } from "./client-protocol.ts";
import {
  type CommandResult,
  encodeCommand,
  type RequestCommand,
  requestSequence,
} from "./command.ts";
import type { AppliedCommand, KeyValueStore } from "./key-value-store.ts";

export interface ClientServiceHost {
  readonly rawNode: RawNode;
  readonly store: () => KeyValueStore;
  readonly reply: (to: string, reply: ClientReply) => void;
  /** False is the injected bug "noClientDedup". */
  readonly deduplicate: boolean;
  /** True is the injected bug "staleLocalReads". */
  readonly staleLocalReads: boolean;
  /** Distinguishes this incarnation's read contexts from a previous one's late answers. */
  readonly incarnation: number;
}

interface Waiter {
  readonly from: string;
  readonly requestId: number;
  readonly sequence: number;
}

interface PendingRead {
  readonly from: string;
  readonly requestId: number;
  readonly command: RequestCommand;
  readonly context: string;
  /** Known once the ReadState arrives. */
  index: number | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ClientService {
  private readonly waiters = new Map<string, Waiter>();
  private readonly reads = new Map<string, PendingRead>();
  private nextContext = 0;

  constructor(private readonly host: ClientServiceHost) {}

  handle(from: string, request: ClientRequest): void {
    if (request.path === "readIndex") this.handleRead(from, request);
    else this.handleProposal(from, request);
  }

  private handleProposal(from: string, request: ClientRequest): void {
    const { command } = request;
    // A retry is proposed again: the session table answers it from its cache.
    const result = this.host.rawNode.propose(encodeCommand(command));
    if (result.status === "dropped") {
      this.answer(from, request.requestId, { status: "retry", reason: result.reason });
      return;
    }
    this.waiters.set(command.client, {
      from,
      requestId: request.requestId,
      sequence: requestSequence(command),
    });
  }

  private handleRead(from: string, request: ClientRequest): void {
    if (this.host.staleLocalReads) {
      this.answer(from, request.requestId, {
        status: "ok",
        result: this.readLocally(request.command),
      });
      return;
    }
    const context = `${this.host.incarnation}/${this.nextContext}`;
    this.nextContext += 1;
    const result = this.host.rawNode.readIndex(encoder.encode(context));
    if (result.status === "dropped") {
      this.answer(from, request.requestId, { status: "retry", reason: result.reason });
      return;
    }
    this.reads.set(request.command.client, {
      from,
      requestId: request.requestId,
      command: request.command,
      context,
      index: null,
    });
  }

  /** A ReadState arrived: its read may be served once applied reaches its index. */
  readStateArrived(readState: ReadState): void {
    const context = decoder.decode(readState.context);
    for (const read of this.reads.values()) {
      if (read.context === context) read.index = readState.index;
    }
  }

  /** Serves the reads whose index the state machine has reached. */
  serveReads(): void {
    const applied = this.host.store().appliedIndex;
    for (const [client, read] of this.reads) {
      if (read.index === null || read.index > applied) continue;
      this.reads.delete(client);
      this.answer(read.from, read.requestId, {
        status: "ok",
        result: this.readLocally(read.command),
      });
    }
  }

  /** The state machine applied a client's command: answer the client if it waits here. */
  commandApplied(applied: AppliedCommand): void {
    const waiter = this.waiters.get(applied.client);
    if (waiter === undefined || waiter.sequence !== applied.sequence) return;
    this.waiters.delete(applied.client);
    this.answer(waiter.from, waiter.requestId, { status: "ok", result: applied.result });
  }

  private readLocally(command: RequestCommand): CommandResult {
    const store = this.host.store();
    switch (command.kind) {
      case "read":
        return { kind: "read", entries: store.readLog(command.key) };
      case "get":
        return { kind: "get", value: store.readRegister(command.key) };
      default:
        throw new Error(`${command.kind} is not a read`);
    }
  }

  private answer(to: string, requestId: number, outcome: ReplyOutcome): void {
    const client = to;
    this.host.reply(to, { type: "reply", requestId, client, outcome });
  }
}
