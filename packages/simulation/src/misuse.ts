/**
 * A caller broke a contract of the kit (a negative delay, an unknown endpoint,
 * a fork label used twice). These are programmer errors, so they throw at once
 * instead of being folded into a simulation outcome.
 */
export class SimulationMisuseError extends Error {
  override readonly name = "SimulationMisuseError";
}

/** Throws `SimulationMisuseError` with `message` unless `condition` holds. */
export function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new SimulationMisuseError(message);
  }
}
