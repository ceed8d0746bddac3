// A Raft storage as plain data, read through the Storage interface only, so
// a database-backed storage and the reference MemoryStorage compare with
// toEqual.

import type { Storage } from "@parley/raft";

export function raftGroupView(storage: Storage) {
  const firstIndex = storage.firstIndex();
  const lastIndex = storage.lastIndex();
  return {
    initialState: storage.initialState(),
    snapshot: storage.snapshot(),
    firstIndex,
    lastIndex,
    termBeforeFirst: storage.term(firstIndex - 1),
    entries: storage.entries(firstIndex, lastIndex + 1, Number.POSITIVE_INFINITY),
  };
}
