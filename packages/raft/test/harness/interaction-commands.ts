/**
 * The commands of the transcript language, each mapped onto InteractionEnv.
 * See packages/raft/testdata/README.md for the list.
 */
import {
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfState,
  describeConfState,
  describeEntry,
  nodeId,
  type RaftConfig,
} from "../../src/index.ts";
import type { TestCommand } from "./datadriven.ts";
import type { InteractionEnv, LogLevel } from "./interaction-env.ts";

const encoder = new TextEncoder();

/** Bare words (node ids), in order. */
function words(command: TestCommand): string[] {
  return command.args.filter((a) => a.values.length === 0).map((a) => a.key);
}

function value(command: TestCommand, key: string): string | undefined {
  return command.args.find((a) => a.key === key)?.values[0];
}

function values(command: TestCommand, key: string): readonly string[] {
  return command.args.find((a) => a.key === key)?.values ?? [];
}

function first(command: TestCommand): string {
  const [id] = words(command);
  if (id === undefined) throw new Error(`${command.position}: ${command.name} needs a node id`);
  return id;
}

function flag(command: TestCommand, key: string): boolean | undefined {
  const text = value(command, key);
  return text === undefined ? undefined : text === "true";
}

function addNodes(env: InteractionEnv, command: TestCommand): void {
  const confState: ConfState = {
    voters: values(command, "voters").map(nodeId),
    votersOutgoing: [],
    learners: values(command, "learners").map(nodeId),
    learnersNext: [],
    autoLeave: false,
  };
  const options: { -readonly [K in keyof RaftConfig]?: RaftConfig[K] } = {};
  const setNumber = (key: string, apply: (n: number) => void) => {
    const text = value(command, key);
    if (text !== undefined) apply(Number(text));
  };
  setNumber("inflight", (n) => {
    options.inflightMessagesMax = n;
  });
  setNumber("max-append-bytes", (n) => {
    options.appendMessageBytesMax = n;
  });
  setNumber("max-uncommitted-bytes", (n) => {
    options.uncommittedEntriesBytesMax = n;
  });
  setNumber("election-ticks", (n) => {
    options.electionTimeoutTicks = n;
  });
  const prevote = flag(command, "prevote");
  if (prevote !== undefined) options.preVote = prevote;
  const checkquorum = flag(command, "checkquorum");
  if (checkquorum !== undefined) options.checkQuorum = checkquorum;
  const quiesce = flag(command, "quiesce");
  if (quiesce !== undefined) options.quiesce = quiesce;
  const index = Number(value(command, "index") ?? 0);
  const jitter = Number(value(command, "jitter") ?? 0);
  env.addNodes(Number(first(command)), confState, index, jitter, options);
}

/** Parses "v4 l5 r1" (voter, learner, remove) into conf change singles. */
function parseChanges(line: string): ConfChangeSingle[] {
  const kinds = { v: "addVoter", l: "addLearner", r: "removeNode" } as const;
  return line
    .split(/\s+/)
    .filter(Boolean)
    .map((token) => {
      const kind = kinds[token[0] as keyof typeof kinds];
      if (kind === undefined) throw new Error(`bad conf change ${token}`);
      return { type: kind, nodeId: nodeId(token.slice(1)) };
    });
}

function describeResult(result: { status: string; reason?: string; to?: string }): string {
  if (result.status === "dropped") return `dropped: ${result.reason}`;
  if (result.status === "forwarded") return "";
  return "";
}

export function runCommand(env: InteractionEnv, command: TestCommand): string {
  const ids = words(command);
  switch (command.name) {
    case "add-nodes":
      addNodes(env, command);
      break;
    case "campaign":
      env.node(first(command)).rawNode.campaign();
      break;
    case "propose": {
      const [id, data = ""] = ids;
      env.write(describeResult(env.node(id ?? "").rawNode.propose(encoder.encode(data))));
      break;
    }
    case "propose-conf-change": {
      const change = {
        transition: (value(command, "transition") ?? "auto") as ConfChangeTransition,
        changes: parseChanges(command.input.join(" ")),
        context: new Uint8Array(0),
      };
      env.write(describeResult(env.node(first(command)).rawNode.proposeConfChange(change)));
      break;
    }
    case "read-index": {
      const [id, context = ""] = ids;
      env.write(describeResult(env.node(id ?? "").rawNode.readIndex(encoder.encode(context))));
      break;
    }
    case "process-ready":
      for (const id of ids) {
        if (ids.length === 1) {
          env.processReady(id);
          continue;
        }
        env.write(`> ${id} handling Ready`);
        env.withIndent(() => env.processReady(id));
      }
      break;
    case "deliver-msgs": {
      let count = 0;
      for (const id of ids) count += env.deliver(id, { ...optionalType(value(command, "type")) });
      for (const id of values(command, "drop")) count += env.deliver(id, { drop: true });
      if (count === 0) env.write("no messages");
      break;
    }
    case "stabilize":
      env.stabilize(ids);
      break;
    case "tick-election":
    case "tick-heartbeat": {
      const node = env.node(first(command));
      const ticks =
        command.name === "tick-election"
          ? (node.config.electionTimeoutTicks ?? 10)
          : (node.config.heartbeatIntervalTicks ?? 1);
      for (let i = 0; i < ticks; i++) node.rawNode.tick();
      break;
    }
    case "tick": {
      const node = env.node(first(command));
      for (let i = 0; i < Number(value(command, "count") ?? 1); i++) node.rawNode.tick();
      break;
    }
    case "partition":
      // Groups are written (1) (2,3): bare words in parentheses.
      env.partition(ids.map((group) => group.replace(/[()]/g, "").split(",").filter(Boolean)));
      break;
    case "isolate": {
      const id = first(command);
      env.partition([[id], env.nodes.map((n) => n.id).filter((n) => n !== id)]);
      break;
    }
    case "heal":
      env.blocked.clear();
      break;
    case "compact":
      env.compact(first(command), Number(ids[1]));
      env.write(raftLog(env, first(command)));
      break;
    case "set-jitter":
      env.jitter.set(first(command), Number(ids[1]));
      break;
    case "restart":
      env.restart(first(command));
      break;
    case "transfer-leadership":
      env
        .node(value(command, "from") ?? "")
        .rawNode.transferLeadership(nodeId(value(command, "to") ?? ""));
      break;
    case "report-unreachable":
      env.node(first(command)).rawNode.reportUnreachable(nodeId(ids[1] ?? ""));
      break;
    case "liveness":
      env
        .node(first(command))
        .rawNode.peerLivenessChanged(nodeId(ids[1] ?? ""), flag(command, "alive") ?? true);
      break;
    case "log-level":
      env.level = first(command).toLowerCase() as LogLevel;
      break;
    case "status":
      env.write(env.node(first(command)).rawNode.describeProgress());
      break;
    case "raft-log":
      env.write(raftLog(env, first(command)));
      break;
    case "raft-state":
      for (const node of env.nodes) {
        const status = node.rawNode.status();
        const { role, lead, quiesced } = status.softState;
        env.write(
          `${node.id}: ${role} term=${status.hardState.term} lead=${lead ?? "none"}${quiesced ? " quiesced" : ""} ${describeConfState(status.config)}`,
        );
      }
      break;
    default:
      throw new Error(`${command.position}: unknown command ${command.name}`);
  }
  const output = env.takeOutput();
  return output === "" ? "ok" : output;
}

function optionalType(type: string | undefined): { type?: string } {
  return type === undefined ? {} : { type };
}

function raftLog(env: InteractionEnv, id: string): string {
  const { storage } = env.node(id);
  const first = storage.firstIndex();
  const entries = storage.entries(first, storage.lastIndex() + 1, Number.POSITIVE_INFINITY);
  if (entries.length === 0)
    return `log is empty: first index=${first}, last index=${storage.lastIndex()}`;
  return entries.map((e) => describeEntry(e)).join("\n");
}
