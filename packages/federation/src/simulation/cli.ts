/**
 * Runs the whole-federation simulation over many seeds.
 *
 *   npx tsx packages/federation/src/simulation/cli.ts --seeds 1000
 *   npx tsx packages/federation/src/simulation/cli.ts --seed 1234        (replay one, verbose)
 *   npx tsx packages/federation/src/simulation/cli.ts --seeds 200 --from 5000 --chaos-ms 20000
 *   npx tsx packages/federation/src/simulation/cli.ts --encrypted --seeds 50   (an encrypted room, real MLS)
 *
 * A run is a pure function of (seed, git commit, options): a failing seed
 * replays exactly, and prints the same network fingerprint.
 */
import { runEncryptedSeed } from "./encrypted/run-encrypted-seed.ts";
import { describeFailure } from "./failure-report.ts";
import { runSeed } from "./run-seed.ts";

interface Options {
  seeds: number;
  from: number;
  single: number | null;
  chaosMs: number | undefined;
  encodeFrames: boolean;
  encrypted: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    seeds: 100,
    from: 1,
    single: null,
    chaosMs: undefined,
    encodeFrames: true,
    encrypted: false,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = Number(argv[index + 1]);
    if (flag === "--seeds") options.seeds = value;
    else if (flag === "--from") options.from = value;
    else if (flag === "--seed") options.single = value;
    else if (flag === "--chaos-ms") options.chaosMs = value;
    else if (flag === "--encrypted") {
      options.encrypted = true;
      continue;
    } else if (flag === "--objects") {
      options.encodeFrames = false;
      continue;
    } else {
      throw new Error(`unknown option ${flag}`);
    }
    index += 1;
  }
  return options;
}

function replayCommand(seed: number, options: Options): string {
  const chaos = options.chaosMs === undefined ? "" : ` --chaos-ms ${options.chaosMs}`;
  const objects = options.encodeFrames ? "" : " --objects";
  const encrypted = options.encrypted ? " --encrypted" : "";
  return `npx tsx packages/federation/src/simulation/cli.ts --seed ${seed}${chaos}${objects}${encrypted}`;
}

/** The seeds the options ask for (one replayed seed, or a range) and the run overrides they set. */
function seedRange(options: Options) {
  const overrides = {
    ...(options.chaosMs === undefined ? {} : { chaosMs: options.chaosMs }),
    encodeFrames: options.encodeFrames,
  };
  const first = options.single ?? options.from;
  const count = options.single === null ? options.seeds : 1;
  return { overrides, first, count };
}

/** Encrypted seeds: the same world with real MLS devices (encrypted/run-encrypted-seed.ts). */
async function mainEncrypted(options: Options): Promise<void> {
  const { overrides, first, count } = seedRange(options);
  const started = performance.now();
  let failures = 0;
  let returnsByInvite = 0;
  let returnsOpen = 0;
  let joinedLater = 0;
  for (let seed = first; seed < first + count; seed += 1) {
    const report = await runEncryptedSeed(seed, overrides);
    returnsByInvite += report.returnsByInvite;
    returnsOpen += report.returnsOpen;
    joinedLater += report.devicesJoinedLater;
    if (!report.ok) {
      failures += 1;
      console.log(
        `seed ${seed} failed (replay: ${replayCommand(seed, options)}):\n  ${report.violations.join("\n  ")}`,
      );
    } else if (options.single !== null) {
      console.log(
        `seed ${seed} ok: epoch ${report.epoch}, ${report.commitsLost} commits lost a race, ${report.messagesDecrypted} messages settled, ${report.removedDevices} devices removed, ${report.returnsByInvite} returned by invite and ${report.returnsOpen} by open join, fingerprint ${report.fingerprint}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${count - failures}/${count} encrypted seeds passed in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(2)} seeds/s); users came back ${returnsByInvite} times by invite, ${returnsOpen} by open join; ${joinedLater} devices added later`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (options.encrypted) {
    void mainEncrypted(options);
    return;
  }
  const { overrides, first, count } = seedRange(options);
  const started = performance.now();
  let failures = 0;
  for (let seed = first; seed < first + count; seed += 1) {
    const report = runSeed(seed, overrides);
    if (!report.ok) {
      failures += 1;
      console.log(describeFailure(report, replayCommand(seed, options)));
    } else if (options.single !== null) {
      console.log(
        `seed ${seed} ok: ${report.scenario}\n  ${report.messagesAccepted} messages, control index ${report.controlIndex}, ${report.simulatedMs} simulated ms, fingerprint ${report.fingerprint}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${count - failures}/${count} seeds passed in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} seeds/s)`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

main();
