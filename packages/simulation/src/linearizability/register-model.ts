import { ensure } from "../misuse.ts";
import type { Operation } from "./history.ts";
import { illegalStep, type SequentialModel, type StepOutcome } from "./model.ts";

/** A register's value; null means the key was never written. */
export type RegisterValue = string | null;

/**
 * Requests to a key-value store. Values written should be unique per key
 * (a counter, or client id and sequence): the checker then knows which write
 * a read saw, which keeps the search small (see `prepareRegisterOperations`).
 */
export type RegisterCall =
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | {
      readonly kind: "compare-and-set";
      readonly key: string;
      readonly expected: RegisterValue;
      readonly value: string;
    };

export type RegisterResult =
  | { readonly kind: "get"; readonly value: RegisterValue }
  | { readonly kind: "put" }
  | { readonly kind: "compare-and-set"; readonly succeeded: boolean };

export type RegisterOperation = Operation<RegisterCall, RegisterResult>;

/**
 * One key of a key-value store: the state is the key's value. The checker
 * splits a history by key (linearizability is local: a history is
 * linearizable iff each object's sub-history is) and runs this model per key.
 */
export const registerModel: SequentialModel<RegisterValue, RegisterCall, RegisterResult> = {
  initialState: null,

  step(state, call, result): StepOutcome<RegisterValue> {
    ensure(
      result === undefined || result.kind === call.kind,
      `a ${call.kind} cannot return a ${result?.kind}`,
    );
    switch (call.kind) {
      case "get":
        if (result !== undefined && result.kind === "get" && result.value !== state) {
          return illegalStep;
        }
        return { legal: true, state };
      case "put":
        return { legal: true, state: call.value };
      case "compare-and-set": {
        const succeeds = state === call.expected;
        if (
          result !== undefined &&
          result.kind === "compare-and-set" &&
          result.succeeded !== succeeds
        ) {
          return illegalStep;
        }
        return { legal: true, state: succeeds ? call.value : state };
      }
    }
  },

  isReadOnly(call, result) {
    return call.kind === "get" || (result?.kind === "compare-and-set" && !result.succeeded);
  },

  stateKey(state) {
    // null and every string map to distinct keys: strings get a prefix.
    return state === null ? "" : `=${state}`;
  },

  describeCall(call) {
    switch (call.kind) {
      case "get":
        return `get ${call.key}`;
      case "put":
        return `put ${call.key} ${JSON.stringify(call.value)}`;
      case "compare-and-set":
        return `compare-and-set ${call.key} ${JSON.stringify(call.expected)} → ${JSON.stringify(call.value)}`;
    }
  },

  describeResult(result) {
    switch (result.kind) {
      case "get":
        return JSON.stringify(result.value);
      case "put":
        return "ok";
      case "compare-and-set":
        return result.succeeded ? "succeeded" : "failed";
    }
  },
};
