// Corrects one tree-validation rule of ts-mls 1.6.4 after every install
// (run by the root package's `postinstall`).
//
// RFC 9420 §7.9.2: if a leaf L is in the unmerged_leaves of a parent node P,
// L must also be in the unmerged_leaves of every non-blank node between L and
// P. ts-mls 1.6.4 instead compared the whole list of P with the list of every
// non-blank node on L's direct path, above P too, so it refused honest trees:
// after a removal, an add into the freed leaf and a commit refreshing the
// root, no device could join the group from a Welcome or by external commit,
// and sponsors could not load the group (packages/mls/test/safety/
// unmerged-leaves.test.ts). ts-mls corrected the rule in 2.0.0-rc.13; 1.6.4
// is the version we pin (docs/protocol.md §13), so the correction is applied
// here, to exactly that version's file, and the script fails loudly if the
// file is not the one it knows.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pinnedVersion = "1.6.4";
const marker = "parley: RFC 9420 §7.9.2 unmerged-leaves rule";

const wrongRule = `                for (const parentIdx of dp) {
                    const dpNode = tree[parentIdx];
                    if (dpNode !== undefined) {
                        if (dpNode.nodeType !== "parent")
                            return new InternalError("Expected parent node");
                        if (!arraysEqual(dpNode.parent.unmergedLeaves, n.parent.unmergedLeaves))`;

const rightRule = `                for (const parentIdx of dp) {
                    // ${marker}: only the nodes between the leaf and this one, each listing the leaf.
                    if (parentIdx === toNodeIndex(i))
                        break;
                    const dpNode = tree[parentIdx];
                    if (dpNode !== undefined) {
                        if (dpNode.nodeType !== "parent")
                            return new InternalError("Expected parent node");
                        if (!dpNode.parent.unmergedLeaves.includes(unmergedLeaf))`;

const mlsPackage = join(dirname(fileURLToPath(import.meta.url)), "..", "package.json");
const require = createRequire(mlsPackage);
// ts-mls exports no package.json: look where Node would look for it from packages/mls.
const libraryPackage = (require.resolve.paths("ts-mls") ?? [])
  .map((directory) => join(directory, "ts-mls", "package.json"))
  .find((candidate) => existsSync(candidate));
if (libraryPackage === undefined) {
  console.error("patch-ts-mls: ts-mls is not installed");
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(libraryPackage, "utf8"));
if (version !== pinnedVersion) {
  console.error(
    `patch-ts-mls: ts-mls is ${version}, not ${pinnedVersion}; check whether it still needs the unmerged-leaves correction and update this script`,
  );
  process.exit(1);
}
const file = join(dirname(libraryPackage), "dist", "src", "clientState.js");
const source = readFileSync(file, "utf8");
if (source.includes(marker)) process.exit(0);
const found = source.split(wrongRule).length - 1;
if (found !== 1) {
  console.error(`patch-ts-mls: ${file} does not hold the expected rule once (found ${found})`);
  process.exit(1);
}
writeFileSync(file, source.replace(wrongRule, rightRule));
console.log("patch-ts-mls: corrected the unmerged-leaves rule of ts-mls 1.6.4");
