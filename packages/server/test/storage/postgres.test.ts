// The storage contract on PostgreSQL. Each test gets its own schema in the
// database named by PARLEY_TEST_POSTGRES_URL, dropped afterwards. In CI the
// variable must be set (.ci/run starts PostgreSQL): a missing database fails
// the run rather than passing it with the suite skipped.

import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { openStorage, type Storage } from "../../src/index.ts";
import { describeStorageContract } from "../storage-contract/contract.ts";

const urlVariable = "PARLEY_TEST_POSTGRES_URL";
const url = process.env[urlVariable];
const ciVariable = "CI";
const ciValue = process.env[ciVariable] ?? "";
const inCi = ciValue !== "" && ciValue !== "false";

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

if (url === undefined || url === "") {
  if (inCi) {
    describe("storage contract: PostgreSQL", () => {
      it(`needs ${urlVariable} in CI`, () => {
        throw new Error(`${urlVariable} is not set: .ci/run must start PostgreSQL and export it`);
      });
    });
  } else {
    process.stderr.write(
      `PostgreSQL storage suite skipped: set ${urlVariable} (for example postgres://parley:parley@127.0.0.1:5432/parley_test) to run it.\n`,
    );
    describe.skip(`storage contract: PostgreSQL (skipped: ${urlVariable} not set)`, () => {
      it("runs when the variable is set", () => {});
    });
  }
} else {
  describeStorageContract("PostgreSQL", {
    sharedAcrossHandles: true,
    async openFresh() {
      const schema = `parley_test_${randomBytes(6).toString("hex")}`;
      const open = () => openStorage({ kind: "postgres", url, schema, poolSize: 4 });
      const handles: Storage[] = [await open()];
      const storage = handles[0] as Storage;
      return {
        storage,
        async openAnother() {
          const another = await open();
          handles.push(another);
          return another;
        },
        async destroy() {
          await Promise.all(handles.map((handle) => handle.close()));
          await dropSchema(schema);
        },
      };
    },
  });
}
