import { expect } from "vitest";
import type { DeviceIdentity } from "../src/credential/identity.ts";
import type { MlsCrypto } from "../src/crypto/mls-crypto.ts";
import { generateKeyPackages, type KeyPackageBundle } from "../src/key-package/generate.ts";
import { encryptMessage } from "../src/member/application.ts";
import { type CommitIntent, type PendingCommit, prepareCommit } from "../src/member/commit.ts";
import { proposeLeave } from "../src/member/external-join.ts";
import { createRoomGroup, joinFromWelcome } from "../src/member/join.ts";
import type { MlsMember } from "../src/member/member.ts";
import { commitAccepted } from "../src/member/ordering.ts";
import { type ProcessOutcome, processMessage } from "../src/member/process.ts";
import { checkCommit } from "../src/sponsor/commit-check.ts";
import { checkProposal, loadSponsorGroup, type SponsorGroup } from "../src/sponsor/public-group.ts";
import { encodeContext } from "../src/ts-mls-internals.ts";
import {
  deviceIdentity,
  readText,
  type TestCryptoName,
  testCrypto,
  testNowMs,
  testRoom,
  text,
} from "./devices.ts";

interface Device {
  readonly identity: DeviceIdentity;
  member: MlsMember | undefined;
  keyPackages: KeyPackageBundle[];
}

/**
 * A room's group as the scenario tests tell it: devices by name, a control
 * lane that the test orders by hand, and a message lane that delivers to
 * whom the test says. Each device is "<name>@example.org".
 */
export class GroupStory {
  readonly devices = new Map<string, Device>();
  /** Every commit ordered so far, in order: what an offline device catches up on. */
  readonly orderedCommits: Uint8Array[] = [];
  readonly nowMs = testNowMs();
  /** The sponsors' public view; every ordered commit is checked against it first. */
  sponsor: SponsorGroup | undefined;

  private constructor(readonly crypto: MlsCrypto) {}

  static async createdBy(name: string, provider?: TestCryptoName): Promise<GroupStory> {
    const story = new GroupStory(await testCrypto(provider));
    const device = story.device(name);
    const created = await createRoomGroup(story.crypto, device.identity, {
      roomId: testRoom,
      nowMs: story.nowMs,
    });
    device.member = created.member;
    const loaded = await loadSponsorGroup(story.crypto, {
      roomId: testRoom,
      groupInfo: created.groupInfo,
      ratchetTree: created.ratchetTree,
    });
    if (loaded.kind === "failed") throw new Error(`sponsor cannot load: ${loaded.detail}`);
    story.sponsor = loaded.group;
    return story;
  }

  device(name: string): Device {
    let device = this.devices.get(name);
    if (device === undefined) {
      device = {
        identity: deviceIdentity(`${name}@example.org`),
        member: undefined,
        keyPackages: [],
      };
      this.devices.set(name, device);
    }
    return device;
  }

  member(name: string): MlsMember {
    const member = this.device(name).member;
    if (member === undefined) throw new Error(`${name} is not in the group`);
    return member;
  }

  setMember(name: string, member: MlsMember): void {
    this.device(name).member = member;
  }

  /** Publishes a fresh batch for `name` and returns one one-time KeyPackage, as a homeserver would. */
  async keyPackageOf(name: string): Promise<Uint8Array> {
    const device = this.device(name);
    const batch = await generateKeyPackages(this.crypto, device.identity, {
      count: 1,
      nowMs: this.nowMs,
    });
    device.keyPackages.push(...batch.oneTime, batch.lastResort);
    const first = batch.oneTime[0];
    if (first === undefined) throw new Error("no KeyPackage");
    return first.keyPackage;
  }

  async prepare(by: string, intent: CommitIntent): Promise<PendingCommit> {
    const prepared = await prepareCommit(this.member(by), intent, { nowMs: this.nowMs });
    if (prepared.kind === "failed") throw new Error(`${by} cannot commit: ${prepared.detail}`);
    return prepared.pending;
  }

  /**
   * The sponsors order `pending` first: the committer adopts it, every other
   * member in `deliverTo` (default: all) processes it, joiners use the Welcome.
   */
  async order(by: string, pending: PendingCommit, deliverTo?: readonly string[]): Promise<void> {
    await this.sponsorChecks(pending);
    this.orderedCommits.push(pending.commit);
    this.setMember(by, commitAccepted(this.member(by), pending));
    if (this.sponsor !== undefined) {
      // The sponsor, who is no member, computed the very group context the committer has.
      expect(encodeContext(this.sponsor.context)).toEqual(
        encodeContext(this.member(by).state.groupContext),
      );
    }
    for (const name of deliverTo ?? this.memberNames()) {
      if (name === by) continue;
      const outcome = await processMessage(this.member(name), pending.commit);
      if (outcome.kind !== "commit" && outcome.kind !== "removed") {
        throw new Error(`${name} could not process the commit: ${describe(outcome)}`);
      }
      this.setMember(name, outcome.member);
    }
    for (const added of pending.change.added) {
      const name = this.nameOf(added.user);
      const device = this.device(name);
      const joined = await joinFromWelcome(this.crypto, {
        roomId: testRoom,
        welcome: pending.welcome ?? new Uint8Array(),
        ratchetTree: pending.ratchetTree,
        keyPackages: device.keyPackages,
      });
      if (joined.kind === "failed") throw new Error(`${name} could not join: ${joined.detail}`);
      device.member = joined.member;
    }
  }

  /** The sponsors check a commit (with its GroupInfo and tree) and adopt the view it leads to. */
  async sponsorChecks(pending: {
    commit: Uint8Array;
    groupInfo: Uint8Array;
    ratchetTree: Uint8Array;
  }) {
    if (this.sponsor === undefined) return;
    const checked = await checkCommit(this.sponsor, pending.commit, {
      nowMs: this.nowMs,
      groupInfo: pending.groupInfo,
      ratchetTree: pending.ratchetTree,
    });
    if (checked.kind === "failed") {
      throw new Error(`sponsor refuses: ${checked.code} ${checked.detail}`);
    }
    this.sponsor = checked.next;
    return checked;
  }

  async commit(
    by: string,
    intent: CommitIntent,
    deliverTo?: readonly string[],
  ): Promise<PendingCommit> {
    const pending = await this.prepare(by, intent);
    await this.order(by, pending, deliverTo);
    return pending;
  }

  async add(by: string, ...names: string[]): Promise<PendingCommit> {
    const add = [];
    for (const name of names) add.push(await this.keyPackageOf(name));
    return this.commit(by, { add });
  }

  async remove(by: string, ...names: string[]): Promise<PendingCommit> {
    return this.commit(by, { remove: names.map((name) => this.member(name).self.device) });
  }

  /** `name` asks to leave; the sponsors order the proposal and every member records it. */
  async proposeLeave(name: string): Promise<Uint8Array> {
    const proposal = await proposeLeave(this.member(name));
    if (this.sponsor !== undefined) {
      const checked = await checkProposal(this.sponsor, proposal);
      if (checked.kind === "failed") throw new Error(`sponsor refuses: ${checked.detail}`);
      this.sponsor = checked.next;
    }
    for (const member of this.memberNames()) {
      const outcome = await this.receive(member, proposal);
      if (outcome.kind !== "proposal") throw new Error(`${member}: ${describe(outcome)}`);
    }
    return proposal;
  }

  async send(from: string, message: string): Promise<Uint8Array> {
    const outcome = await encryptMessage(this.member(from), text(message));
    if (outcome.kind === "failed") throw new Error(`${from} cannot send: ${outcome.detail}`);
    this.setMember(from, outcome.member);
    return outcome.message;
  }

  async receive(name: string, message: Uint8Array): Promise<ProcessOutcome> {
    const outcome = await processMessage(this.member(name), message);
    if (outcome.kind !== "failed") this.setMember(name, outcome.member);
    return outcome;
  }

  /** `name` reads `message` and it says `expected`, from `from`. */
  async expectRead(
    name: string,
    message: Uint8Array,
    expected: string,
    from?: string,
  ): Promise<void> {
    const outcome = await this.receive(name, message);
    if (outcome.kind !== "application") {
      throw new Error(`${name} did not read: ${describe(outcome)}`);
    }
    expect(readText(outcome.plaintext)).toBe(expected);
    if (from !== undefined) expect(outcome.sender.user).toBe(`${from}@example.org`);
  }

  memberNames(): string[] {
    return [...this.devices].flatMap(([name, device]) =>
      device.member !== undefined && device.member.state.groupActiveState.kind === "active"
        ? [name]
        : [],
    );
  }

  private nameOf(user: string): string {
    return user.slice(0, user.indexOf("@"));
  }
}

export function describe(outcome: ProcessOutcome): string {
  return outcome.kind === "failed" ? `${outcome.code}: ${outcome.detail}` : outcome.kind;
}
