import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileStore } from "./file-store.ts";

describe("FileStore", () => {
  it("applies an update's sets and deletes together, and a new process reads them back", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-file-store-"));
    try {
      const path = join(directory, "store.json");
      const store = new FileStore(path);
      await store.set("kept", "1");
      await store.set("dropped", "2");
      await store.update(
        new Map([
          ["dropped", undefined],
          ["new", "3"],
          ["kept", "4"],
        ]),
      );
      const reopened = new FileStore(path);
      expect(await reopened.get("kept")).toBe("4");
      expect(await reopened.get("new")).toBe("3");
      expect(await reopened.get("dropped")).toBeUndefined();
      // No temporary file is left beside the store.
      expect(await readdir(directory)).toEqual(["store.json"]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
