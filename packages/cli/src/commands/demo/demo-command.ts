// `parley demo` (and `npm run demo`): a local federation in one command. Three
// homeservers on loopback, each with its own data directory under a fresh
// temporary directory, sample users and a shared room; it prints how to log in
// and runs until Ctrl-C or SIGTERM, then stops every server and removes the
// data. The line "ready" tells scripts and tests that everything is set up.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HomeserverChild } from "./homeserver-child.ts";
import { createSampleRoom, type DemoUser, demoPassword, welcomeText } from "./sample-room.ts";

export const demoUsage = `usage: parley demo

Starts three homeservers on 127.0.0.1 (ports 7001-7003 when free), signs up
alice, bob and carol (one on each), makes a shared room and posts a welcome.
Ctrl-C stops everything and removes the demo's data.
`;

const preferredPorts = [7001, 7002, 7003] as const;
const userNames = ["alice", "bob", "carol"] as const;

function describe(users: readonly DemoUser[], dataRoot: string): string {
  const [, bob] = users;
  const host = bob === undefined ? "" : new URL(bob.server.url).host;
  return [
    "",
    "Parley demo: three federated homeservers are running.",
    "",
    ...users.map((user) => `  ${user.name.padEnd(6)} ${user.server.url}/`),
    "",
    "Log in on the web client of each server with:",
    ...users.map(
      (user) =>
        `  user ${user.name}@${user.server.serverName}  (name ${user.name}, password ${demoPassword})`,
    ),
    "",
    `The room "demo lobby" has alice's welcome: "${welcomeText}"`,
    "",
    "From a terminal:",
    `  npx parley chat --server ${host} --user bob --data ${join(dataRoot, "chat")}`,
    "",
    "Ctrl-C stops the demo.",
    "ready",
    "",
  ].join("\n");
}

export async function runDemo(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(demoUsage);
    return 0;
  }
  const dataRoot = await mkdtemp(join(tmpdir(), "parley-demo-"));
  const servers: HomeserverChild[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await rm(dataRoot, { recursive: true, force: true });
    })();
    return stopping;
  };
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      process.stdout.write("\nstopping the demo...\n");
      void stopAll().then(resolve);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  });
  try {
    for (const [index, port] of preferredPorts.entries()) {
      const dataDirectory = join(dataRoot, `server-${index + 1}`);
      await mkdir(dataDirectory, { recursive: true });
      servers.push(await HomeserverChild.start({ preferredPort: port, dataDirectory }));
    }
    const users = userNames.map((name, index) => {
      const server = servers[index];
      if (server === undefined) throw new Error("a demo server is missing");
      return { name, server };
    });
    const [alice, bob, carol] = users;
    if (alice === undefined || bob === undefined || carol === undefined) {
      throw new Error("the demo needs three users");
    }
    await createSampleRoom([alice, bob, carol]);
    process.stdout.write(describe(users, dataRoot));
  } catch (error) {
    await stopAll();
    throw error;
  }
  await stopped;
  process.stdout.write("the demo has stopped\n");
  return 0;
}
