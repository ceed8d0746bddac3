import type { SeedReport } from "./run-seed.ts";

/** What a failing seed prints: the seed, its scenario, the violations, the fingerprint and how to replay it. */
export function describeFailure(report: SeedReport, command: string): string {
  return [
    `seed ${report.seed} FAILED: ${report.scenario}`,
    ...report.violations.map((violation) => `  - ${violation}`),
    `  fingerprint ${report.fingerprint}`,
    `  replay: ${command}`,
    "  (the same seed replays the same run on the same git commit)",
  ].join("\n");
}
