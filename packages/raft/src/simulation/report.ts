/**
 * How runs are reported: a failure names the seed, the broken property and
 * the exact command that replays it; a passing verbose run summarizes what
 * happened, so one can tell a run that tested something from one that idled.
 */
import type { SimulationResult } from "./run.ts";
import { describeScenario, replayCommand } from "./scenario.ts";

export function describeResult(result: SimulationResult): string {
  const { options, failure } = result;
  const lines: string[] = [];
  if (failure === null) {
    lines.push(`seed ${options.seed} passed`);
  } else {
    lines.push(
      `seed ${options.seed} FAILED at ${failure.atMs} ms: [${failure.invariant}] ${failure.message}`,
    );
  }
  lines.push(`  replay: ${replayCommand(options)}`);
  if (options.bugs.length > 0) lines.push(`  injected bugs: ${options.bugs.join(", ")}`);
  for (const line of describeScenario(result.scenario).split("\n")) lines.push(`  ${line}`);
  lines.push(`  ${describeStatistics(result)}`);
  lines.push(`  fingerprint ${result.fingerprint}`);
  return lines.join("\n");
}

export function describeStatistics(result: SimulationResult): string {
  const {
    clients,
    cluster,
    chaos,
    network,
    committedIndex,
    leaderTerms,
    livenessMs,
    linearizability,
  } = result.statistics;
  const verdict =
    linearizability === null
      ? "not checked"
      : linearizability.verdict === "not-linearizable"
        ? "NOT linearizable"
        : `${linearizability.verdict} (${linearizability.operations} operations)`;
  return [
    `${result.eventsRun} events over ${result.virtualMs} virtual ms`,
    `${committedIndex} entries committed, ${leaderTerms} terms with a leader`,
    `${clients.operations} operations (${clients.completed} completed, ${clients.gaveUp} unknown, ${clients.attempts} attempts)`,
    `${cluster.crashes} crashes (${chaos.biasedCrashes} biased), ${cluster.restarts} restarts (${cluster.resumedFromStateMachine} from a durable state machine), ${cluster.nodesCreated} nodes`,
    `${cluster.compactions} compactions, ${cluster.snapshotsInstalled} snapshots installed`,
    `${chaos.configurationProposals} configuration proposals, ${chaos.transfers} transfers, ${chaos.isolations} leader isolations`,
    `${network.sent} messages sent, ${network.delivered} delivered`,
    `liveness ${livenessMs === null ? "not reached" : `${livenessMs} ms after healing`}`,
    `history ${verdict}`,
  ].join("; ");
}

export interface RunSummary {
  readonly seeds: number;
  readonly failures: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly elapsedMs: number;
}

export function describeRunSummary(summary: RunSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const seedsPerSecond = summary.seeds / seconds;
  const eventsPerSecond = summary.events / seconds;
  return [
    `${summary.seeds} seeds in ${seconds.toFixed(1)} s: ${seedsPerSecond.toFixed(1)} seeds/s`,
    `${(summary.events / 1e6).toFixed(2)} M events (${(eventsPerSecond / 1e6).toFixed(2)} M events/s)`,
    `${(summary.virtualMs / 1000).toFixed(0)} virtual s`,
    `${summary.failures} failures`,
  ].join(", ");
}
