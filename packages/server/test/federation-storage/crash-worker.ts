// A child process for the crash test: opens the federation storage on a
// SQLite file and, round after round, writes one batch (a Raft append and
// hard state, a run of messages, the room record naming the round) and
// flushes it, printing "flushed <round>" once each flush resolved. The test
// kills it with SIGKILL at an arbitrary moment.
// Usage: crash-worker.ts <database file> <last round>

import { contractMessage, contractRoom } from "@parley/federation/storage-contract";
import { nodeId } from "@parley/raft";
import { DatabaseFederationStorage, openStorage } from "../../src/index.ts";

export const crashRoomByte = 42;
export const crashNode = "a.example#1";
export const writesPerRound = 100;

const [path, roundsText] = process.argv.slice(2);
if (path !== undefined && roundsText !== undefined) {
  const storage = await openStorage({ kind: "sqlite", path });
  await storage.migrations.migrateToLatest();
  const federation = await DatabaseFederationStorage.open(storage.database);
  const room = contractRoom(crashRoomByte);
  const node = nodeId(crashNode);
  const group = federation.groups.open(room, node);
  const store = federation.messages(room);
  const body = new Uint8Array(2048).fill(1);
  // A restarted worker goes on from the round its storage reached.
  const reached = federation.loadRoom(room)?.retiredIncarnation ?? 0;
  for (let round = reached + 1; round <= Number(roundsText); round += 1) {
    const first = group.lastIndex() + 1;
    group.append(
      Array.from({ length: writesPerRound }, (_, offset) => ({
        type: "normal" as const,
        index: first + offset,
        term: 1,
        data: body,
      })),
    );
    group.setHardState({ term: 1, vote: node, commit: group.lastIndex() });
    for (let offset = 0; offset < writesPerRound; offset += 1) {
      store.put(contractMessage(room, node, store.contiguous(node) + 1, "allowed", body));
    }
    federation.saveRoom(room, { contacts: [], node, retiredIncarnation: round });
    await federation.flush();
    process.stdout.write(`flushed ${round}\n`);
  }
  await storage.close();
}
