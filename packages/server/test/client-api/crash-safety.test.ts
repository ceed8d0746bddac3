// Crash safety of the message lane: under a steady load of messages, the
// homeserver process is killed with SIGKILL, restarted on the same data, and
// every message that had been acknowledged must be in the room's history
// exactly once, in the order its sender sent it. Messages whose answer was
// lost in the crash are retried with the same envelope and must end up there
// exactly once too. Runs on SQLite and on PostgreSQL (PARLEY_TEST_POSTGRES_URL;
// required in CI, skipped visibly otherwise).

import { randomBytes } from "node:crypto";
import { newDevice, ParleyClient } from "@parley/cli/client";
import type { EventJson, RoomId } from "@parley/protocol";
import { HomeserverProcess } from "@parley/server/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";

const senders = 4;
/** Each sender stops after this many messages even if the crash is late. */
const messagesPerSenderMax = 5_000;
/**
 * The crash comes once this many messages were acknowledged, so it always
 * lands under load however fast the machine is; a server that cannot reach
 * it within `loadWaitMsMax` fails the story.
 */
const acknowledgedBeforeCrash = 100;
const loadWaitMsMax = 30_000;

interface Sent {
  readonly clientId: string;
  readonly envelope: string;
  sequence: number | null;
}

/** Counts acknowledgements across senders and wakes the story at the threshold. */
class LoadGauge {
  #acknowledged = 0;
  #reached: () => void = () => {};
  readonly reached = new Promise<void>((resolve) => {
    this.#reached = resolve;
  });

  acknowledge(): void {
    this.#acknowledged += 1;
    if (this.#acknowledged === acknowledgedBeforeCrash) this.#reached();
  }
}

async function sendUntilCrash(
  client: ParleyClient,
  roomId: RoomId,
  sender: number,
  gauge: LoadGauge,
): Promise<{ acknowledged: Sent[]; unknown: Sent[] }> {
  const acknowledged: Sent[] = [];
  const unknown: Sent[] = [];
  for (let index = 0; index < messagesPerSenderMax; index += 1) {
    const clientId = `s${sender}-${index}`;
    const sent: Sent = {
      clientId,
      envelope: client.signMessage(roomId, `message ${clientId}`, { clientId }),
      sequence: null,
    };
    try {
      sent.sequence = (await client.postEnvelope(roomId, sent.envelope)).sequence;
      acknowledged.push(sent);
      gauge.acknowledge();
    } catch {
      unknown.push(sent);
      break;
    }
  }
  return { acknowledged, unknown };
}

async function wholeHistory(client: ParleyClient, roomId: RoomId): Promise<EventJson[]> {
  const events: EventJson[] = [];
  let from = 0;
  // Bounded by the messages sent: each page moves `from` forward.
  for (let page = 0; page < 1 + (senders * messagesPerSenderMax) / 1000 + 1; page += 1) {
    const history = await client.history(roomId, { from, direction: "forward", limit: 1000 });
    events.push(...history.events);
    from = history.next;
    if (!history.more) break;
  }
  return events;
}

function crashStory(
  environment: () => Promise<{ variables: Record<string, string>; cleanUp(): Promise<void> }>,
) {
  return async () => {
    const setting = await environment();
    const server = await HomeserverProcess.start({ environment: setting.variables });
    try {
      const clients = await Promise.all(
        Array.from({ length: senders }, async (_, sender) => {
          const client = new ParleyClient({
            baseUrl: server.url,
            serverName: server.serverName,
            device: newDevice(),
          });
          await client.register(`sender${sender}`, "correct horse battery staple");
          return client;
        }),
      );
      const [owner, ...others] = clients;
      if (owner === undefined) throw new Error("no sender");
      const { roomId } = await owner.createRoom({
        clientId: "crash",
        name: "crash",
        joinRule: "open",
      });
      for (const other of others) await other.act(roomId, { type: "join" });

      const gauge = new LoadGauge();
      const load = Promise.all(
        clients.map((client, sender) => sendUntilCrash(client, roomId, sender, gauge)),
      );
      let waited: ReturnType<typeof setTimeout> | undefined;
      const tooSlow = new Promise<"too-slow">((resolve) => {
        waited = setTimeout(() => resolve("too-slow"), loadWaitMsMax);
      });
      const loaded = await Promise.race([gauge.reached.then(() => "loaded" as const), tooSlow]);
      clearTimeout(waited);
      await server.kill();
      expect(
        loaded,
        `fewer than ${acknowledgedBeforeCrash} acknowledged in ${loadWaitMsMax} ms`,
      ).toBe("loaded");
      const outcomes = await load;
      await server.restart();

      // Messages whose answer was lost are retried with the same envelope.
      for (const [sender, outcome] of outcomes.entries()) {
        const client = clients[sender];
        for (const sent of outcome.unknown) {
          sent.sequence = (await client?.postEnvelope(roomId, sent.envelope))?.sequence ?? null;
        }
      }

      const history = await wholeHistory(owner, roomId);
      const messages = history.filter((event) => event.kind === "message");
      const sequenceOf = new Map<string, number>();
      for (const event of messages) {
        const key = `${event.deviceId}/${event.clientId}`;
        expect(sequenceOf.has(key), `${key} stored twice`).toBe(false);
        sequenceOf.set(key, event.sequence);
      }
      const sequences = history.map((event) => event.sequence);
      expect(sequences).toEqual(sequences.map((_, index) => index + 1));

      let acknowledgedCount = 0;
      for (const [sender, outcome] of outcomes.entries()) {
        const deviceId = clients[sender]?.device.deviceId;
        let previous = 0;
        for (const sent of [...outcome.acknowledged, ...outcome.unknown]) {
          const stored = sequenceOf.get(`${deviceId}/${sent.clientId}`);
          expect(stored, `${sent.clientId} is missing`).toBeDefined();
          expect(stored).toBe(sent.sequence);
          expect(stored ?? 0).toBeGreaterThan(previous);
          previous = stored ?? 0;
        }
        acknowledgedCount += outcome.acknowledged.length;
      }
      expect(acknowledgedCount).toBeGreaterThanOrEqual(acknowledgedBeforeCrash);
      expect(messages.length).toBe(
        outcomes.reduce(
          (total, outcome) => total + outcome.acknowledged.length + outcome.unknown.length,
          0,
        ),
      );
    } finally {
      await server.dispose();
      await setting.cleanUp();
    }
  };
}

describe("crash safety", () => {
  it(
    "keeps every acknowledged message exactly once, in order, across kill -9 (SQLite)",
    { timeout: 90_000 },
    crashStory(async () => ({ variables: {}, async cleanUp() {} })),
  );
});

const urlVariable = "PARLEY_TEST_POSTGRES_URL";
const postgresUrl = process.env[urlVariable] ?? "";
const ciVariable = "CI";
const ciValue = process.env[ciVariable] ?? "";
const inCi = ciValue !== "" && ciValue !== "false";

if (postgresUrl === "") {
  if (inCi) {
    describe("crash safety on PostgreSQL", () => {
      it(`needs ${urlVariable} in CI`, () => {
        throw new Error(`${urlVariable} is not set: .ci/run must start PostgreSQL and export it`);
      });
    });
  } else {
    process.stderr.write(`crash safety on PostgreSQL skipped: set ${urlVariable} to run it.\n`);
    describe.skip(`crash safety on PostgreSQL (skipped: ${urlVariable} not set)`, () => {
      it("runs when the variable is set", () => {});
    });
  }
} else {
  describe("crash safety on PostgreSQL", () => {
    it(
      "keeps every acknowledged message exactly once, in order, across kill -9 (PostgreSQL)",
      { timeout: 90_000 },
      crashStory(async () => {
        const schema = `parley_crash_${randomBytes(6).toString("hex")}`;
        return {
          variables: {
            PARLEY_DATABASE_POSTGRES_URL: postgresUrl,
            PARLEY_DATABASE_POSTGRES_SCHEMA: schema,
          },
          async cleanUp() {
            const client = new pg.Client({ connectionString: postgresUrl });
            await client.connect();
            try {
              await client.query(`drop schema if exists "${schema}" cascade`);
            } finally {
              await client.end();
            }
          },
        };
      }),
    );
  });
}
