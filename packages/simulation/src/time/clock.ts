/**
 * The time a sans-IO core may read. Cores take a `Clock` instead of calling
 * Date.now, so a simulation can drive them with virtual time and a program's
 * `main` with the real one.
 *
 * Contract: `nowMs()` is in whole milliseconds and never goes backwards.
 */
export interface Clock {
  nowMs(): number;
}
