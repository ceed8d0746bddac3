/**
 * Programmer errors. A failed assertion means the core, or its caller, broke
 * a contract: continuing could corrupt the replicated log, so we throw and let
 * the process crash. Operating errors (a peer is down, a proposal is dropped)
 * never use this: they are values the caller handles.
 */
export class RaftAssertionError extends Error {
  override readonly name = "RaftAssertionError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new RaftAssertionError(message);
  }
}

/** Marks code that a complete `switch` makes unreachable. */
export function unreachable(value: never): never {
  throw new RaftAssertionError(`unreachable: ${String(value)}`);
}

/**
 * Throws `RaftAssertionError`. For checks on hot paths, as
 * `if (!condition) fail(\`...\`)`: unlike `assert`, the message (often a
 * template naming indexes) is only built when the check fails.
 */
export function fail(message: string): never {
  throw new RaftAssertionError(message);
}
