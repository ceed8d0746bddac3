// The device's KeyPackages (docs/protocol.md §10.12, §13.4): others add this
// device to encrypted rooms with them while it is offline. The public halves
// are published to the homeserver; the private halves stay here, sealed in
// the store, until a Welcome names one. The count at the server is checked
// when the stream connects and when the application asks, and refilled when
// low; the last-resort package is replaced when used or near its end.

import {
  generateKeyPackage,
  type KeyPackageBundle,
  mlsFailureToParleyError,
  mlsLimits,
  openKeyPackages,
  sealKeyPackages,
} from "@parley/mls";
import { encodeBase64url } from "@parley/protocol";
import type { MlsContext } from "./mls-context.ts";

/** What the server holds for this device (`GET /key-packages`). */
export interface KeyPackageCount {
  readonly oneTime: number;
  readonly lastResort: boolean;
}

/** What a refill did. */
export interface KeyPackageRefill {
  /** One-time packages published by this refill (0 when none were needed). */
  readonly published: number;
  readonly lastResortReplaced: boolean;
  /** What the server holds afterwards. */
  readonly count: KeyPackageCount;
}

export interface KeyPackageRequests {
  count(): Promise<KeyPackageCount>;
  publish(body: {
    readonly oneTime: readonly string[];
    readonly lastResort?: string;
  }): Promise<KeyPackageCount & { readonly oneTimeAdded: number }>;
}

const targetDefault = 50;
const refillBelowDefault = 20;
/** A last-resort package this close to its end is replaced (its lifetime is 90 days). */
const lastResortRenewBeforeMs = 7 * 24 * 60 * 60 * 1000;
/**
 * Private one-time packages kept at most. The server holds at most 500 per
 * device; packages it handed out whose Welcome never came (the adder's
 * commit lost) stay until they expire, so this bounds the rest.
 */
const privateOneTimeMax = 1000;

export class KeyPackages {
  readonly #context: MlsContext;
  readonly #requests: KeyPackageRequests;
  #bundles: KeyPackageBundle[] | undefined;
  /** Operations run one at a time: each reads and rewrites the sealed list. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(context: MlsContext, requests: KeyPackageRequests) {
    this.#context = context;
    this.#requests = requests;
  }

  /** The device's private bundles that are still usable (for joining from a Welcome). */
  bundles(): Promise<readonly KeyPackageBundle[]> {
    return this.#serially(() => this.#load());
  }

  /**
   * Asks the server how many packages it holds and publishes new ones when
   * one-time packages run low, when the last-resort one is missing, or when
   * ours is near its end.
   */
  refill(): Promise<KeyPackageRefill> {
    return this.#serially(() => this.#refill());
  }

  /**
   * A Welcome used `bundle`: a one-time bundle is deleted; a used last-resort
   * one is replaced at the server (its init key has now served twice) and
   * kept here until it expires, since other Welcomes may name it too.
   */
  used(bundle: KeyPackageBundle): Promise<void> {
    return this.#serially(async () => {
      const bundles = await this.#load();
      if (bundle.lastResort) {
        await this.#publish(bundles, 0, true);
        return;
      }
      await this.#save(bundles.filter((candidate) => candidate !== bundle));
    });
  }

  #serially<Result>(operation: () => Promise<Result>): Promise<Result> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #load(): Promise<KeyPackageBundle[]> {
    if (this.#bundles !== undefined) return this.#bundles;
    const sealed = await this.#context.records.keyPackages();
    if (sealed === undefined) {
      this.#bundles = [];
      return this.#bundles;
    }
    const crypto = await this.#context.crypto();
    const opened = await openKeyPackages(
      crypto,
      this.#context.deviceId,
      sealed,
      await this.#context.stateKey(),
    );
    if (opened.kind === "failed") throw mlsFailureToParleyError(opened);
    const nowMs = this.#context.nowMs();
    this.#bundles = opened.bundles.filter((bundle) => bundle.notAfterMs > nowMs);
    return this.#bundles;
  }

  async #save(bundles: KeyPackageBundle[]): Promise<void> {
    const nowMs = this.#context.nowMs();
    const live = bundles.filter((bundle) => bundle.notAfterMs > nowMs);
    const oneTime = live.filter((bundle) => !bundle.lastResort);
    const kept = [
      ...oneTime.slice(Math.max(0, oneTime.length - privateOneTimeMax)),
      ...live.filter((bundle) => bundle.lastResort),
    ];
    const crypto = await this.#context.crypto();
    const sealed = await sealKeyPackages(
      crypto,
      this.#context.deviceId,
      kept,
      await this.#context.stateKey(),
    );
    await this.#context.records.saveKeyPackages(sealed);
    this.#bundles = kept;
  }

  async #refill(): Promise<KeyPackageRefill> {
    const bundles = await this.#load();
    const count = await this.#requests.count();
    const target = Math.min(
      this.#context.options.keyPackagesTarget ?? targetDefault,
      mlsLimits.keyPackageBatchMax,
    );
    const refillBelow = Math.min(
      this.#context.options.keyPackagesRefillBelow ?? refillBelowDefault,
      target,
    );
    const newestLastResort = bundles
      .filter((bundle) => bundle.lastResort)
      .reduce((newest, bundle) => Math.max(newest, bundle.notAfterMs), 0);
    const renewLastResort =
      !count.lastResort || newestLastResort - this.#context.nowMs() < lastResortRenewBeforeMs;
    const oneTimeWanted = count.oneTime < refillBelow ? target - count.oneTime : 0;
    if (oneTimeWanted === 0 && !renewLastResort) {
      return { published: 0, lastResortReplaced: false, count };
    }
    return this.#publish(bundles, oneTimeWanted, renewLastResort);
  }

  /**
   * Makes and publishes packages. The private halves are stored first: a
   * Welcome may name a package as soon as the server holds it.
   */
  async #publish(
    bundles: KeyPackageBundle[],
    oneTimeCount: number,
    lastResort: boolean,
  ): Promise<KeyPackageRefill> {
    const crypto = await this.#context.crypto();
    const made: KeyPackageBundle[] = [];
    const nowMs = this.#context.nowMs();
    for (let index = 0; index < oneTimeCount; index += 1) {
      made.push(await generateKeyPackage(crypto, this.#context.identity, { nowMs }));
    }
    const lastResortBundle = lastResort
      ? await generateKeyPackage(crypto, this.#context.identity, { nowMs, lastResort: true })
      : undefined;
    await this.#save([
      ...bundles,
      ...made,
      ...(lastResortBundle === undefined ? [] : [lastResortBundle]),
    ]);
    const answer = await this.#requests.publish({
      oneTime: made.map((bundle) => encodeBase64url(bundle.keyPackage)),
      ...(lastResortBundle === undefined
        ? {}
        : { lastResort: encodeBase64url(lastResortBundle.keyPackage) }),
    });
    return {
      published: answer.oneTimeAdded,
      lastResortReplaced: lastResortBundle !== undefined,
      count: { oneTime: answer.oneTime, lastResort: answer.lastResort },
    };
  }
}
