/** The answer of a model to one step: the next state, or "this result is impossible here". */
export type StepOutcome<State> =
  | { readonly legal: true; readonly state: State }
  | { readonly legal: false };

export const illegalStep: StepOutcome<never> = { legal: false };

/**
 * A sequential specification: what one object does when operations are
 * applied one at a time. The checkers search for an order of a concurrent
 * history that this model accepts.
 */
export interface SequentialModel<State, Call, Result> {
  readonly initialState: State;
  /**
   * Applies `call` to `state`. With a `result`, the step is legal only if the
   * object could have answered exactly that; with `undefined` (outcome
   * unknown) any answer is acceptable and the step is legal whenever the call
   * could take effect. Must be pure.
   */
  step(state: State, call: Call, result: Result | undefined): StepOutcome<State>;
  /**
   * True when the operation, with this result (undefined: unknown), leaves
   * every state unchanged — a read, a failed compare-and-set. The search takes
   * such an operation as soon as it is legal, without branching. Answer false
   * when unsure: that is always correct, only slower.
   */
  isReadOnly(call: Call, result: Result | undefined): boolean;
  /** Equal keys exactly for equal states: the search memoizes on it. */
  stateKey(state: State): string;
  /** Short texts for counterexamples. */
  describeCall(call: Call): string;
  describeResult(result: Result): string;
}
