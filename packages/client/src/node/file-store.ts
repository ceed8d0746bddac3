// A ClientStore in one JSON file, for Node programs (the terminal client,
// bots, tests). The file holds the device's secret key, so it is created
// with mode 0600 in a directory of mode 0700. Every write replaces the file
// atomically (write a temporary file, then rename), so a crash leaves the old
// or the new contents, never half of either.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ParleyError } from "@parley/protocol";
import type { ClientStore } from "../store/client-store.ts";

/** A store file larger than this is refused: it holds a key, a cursor and a small outbox. */
const storeFileBytesMax = 16 * 1024 * 1024;

export class FileStore implements ClientStore {
  readonly path: string;
  #values: Map<string, string> | undefined;
  /** Writes happen one after another, each with the newest contents. */
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#load()).get(key);
  }

  async set(key: string, value: string): Promise<void> {
    (await this.#load()).set(key, value);
    await this.#write();
  }

  async delete(key: string): Promise<void> {
    const values = await this.#load();
    if (!values.delete(key)) return;
    await this.#write();
  }

  /** All changes land in one atomic file replacement. */
  async update(changes: ReadonlyMap<string, string | undefined>): Promise<void> {
    const values = await this.#load();
    for (const [key, value] of changes) {
      if (value === undefined) values.delete(key);
      else values.set(key, value);
    }
    await this.#write();
  }

  async #load(): Promise<Map<string, string>> {
    if (this.#values !== undefined) return this.#values;
    let text: string;
    try {
      const bytes = await readFile(this.path);
      if (bytes.byteLength > storeFileBytesMax) {
        throw new ParleyError(
          "payload_too_large",
          `${this.path} is larger than ${storeFileBytesMax} bytes`,
        );
      }
      text = bytes.toString("utf8");
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      text = "{}";
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ParleyError("bad_encoding", `${this.path} is not JSON`, { cause });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ParleyError("bad_structure", `${this.path} does not hold a JSON object`);
    }
    const values = new Map<string, string>();
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === "string") values.set(key, value);
    }
    this.#values ??= values;
    return this.#values;
  }

  #write(): Promise<void> {
    this.#writing = this.#writing
      .catch(() => undefined)
      .then(async () => {
        const values = this.#values ?? new Map<string, string>();
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        const temporary = `${this.path}.${process.pid}.tmp`;
        await writeFile(temporary, JSON.stringify(Object.fromEntries(values)), { mode: 0o600 });
        await rename(temporary, this.path);
      });
    return this.#writing;
  }
}
