/**
 * The end-of-run check of what clients saw: the registers' history with the
 * kit's Wing–Gong checker (unknown outcomes allowed), the append-only logs'
 * with its polynomial checker. A history too hard to decide within the step
 * budget is reported as such, never as a failure.
 */
import {
  checkAppendLogHistory,
  checkRegisterHistory,
  type LogOperation,
  type RegisterOperation,
} from "@parley/simulation";

/** Search steps for the registers' history: a few hundred milliseconds at worst. */
const registerCheckStepsMax = 2_000_000;

export type LinearizabilityVerdict =
  | { readonly verdict: "linearizable"; readonly operations: number }
  | { readonly verdict: "unknown"; readonly operations: number; readonly key: string }
  | { readonly verdict: "not-linearizable"; readonly description: string };

export function checkHistories(
  registers: readonly RegisterOperation[],
  logs: readonly LogOperation[],
): LinearizabilityVerdict {
  const operations = registers.length + logs.length;
  const logVerdict = checkAppendLogHistory(logs);
  if (logVerdict.verdict === "not-linearizable") {
    return {
      verdict: "not-linearizable",
      description: `log ${JSON.stringify(logVerdict.log)}: ${logVerdict.problem} (operations ${logVerdict.operations.map((id) => `#${id}`).join(", ")})`,
    };
  }
  const registerVerdict = checkRegisterHistory(registers, { stepsMax: registerCheckStepsMax });
  switch (registerVerdict.verdict) {
    case "linearizable":
      return { verdict: "linearizable", operations };
    case "unknown":
      return { verdict: "unknown", operations, key: registerVerdict.key };
    case "not-linearizable":
      return {
        verdict: "not-linearizable",
        description: registerVerdict.counterexample.description,
      };
  }
}
