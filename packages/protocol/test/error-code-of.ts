import { isParleyError } from "../src/errors/parley-error.ts";

/**
 * Runs `action` and names its outcome: the ParleyError code it threw, or
 * "accepted" if it returned. Anything else thrown fails the test as it is.
 */
export function errorCodeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isParleyError(error)) return error.code;
    throw error;
  }
  return "accepted";
}
