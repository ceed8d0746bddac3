/**
 * What simulated clients and servers say to each other over the client
 * network. A request carries a session command (client, sequence); a
 * retried request carries the same one, so the state machine can tell a
 * retry from a new command.
 */
import { type CommandResult, type RequestCommand, requestSequence } from "./command.ts";

/** Writes always go through the log; reads through the log or through ReadIndex. */
export type RequestPath = "log" | "readIndex";

export interface ClientRequest {
  readonly type: "request";
  /** Unique per attempt, so a client can ignore answers to attempts it gave up on. */
  readonly requestId: number;
  readonly client: string;
  readonly command: RequestCommand;
  readonly path: RequestPath;
}

export type ReplyOutcome =
  | { readonly status: "ok"; readonly result: CommandResult }
  /** Certainly not done by this attempt (no leader, dropped proposal): try again. */
  | { readonly status: "retry"; readonly reason: string };

export interface ClientReply {
  readonly type: "reply";
  readonly requestId: number;
  readonly client: string;
  readonly outcome: ReplyOutcome;
}

export type ClientEnvelope = ClientRequest | ClientReply;

export function describeEnvelope(envelope: ClientEnvelope): string {
  if (envelope.type === "request") {
    const { command } = envelope;
    const key = command.kind === "register" ? "" : ` ${command.key}`;
    return `request ${envelope.requestId} ${command.kind}${key} (${command.client}/${requestSequence(command)}) via ${envelope.path}`;
  }
  return `reply ${envelope.requestId} ${envelope.outcome.status}`;
}
