/**
 * A small data-driven test runner in the style of cockroachdb/datadriven
 * (which etcd's raft transcripts use). A script is a sequence of blocks:
 *
 *   # comments and blank lines
 *   command arg key=value key=(a,b)
 *   optional input lines
 *   ----
 *   expected output, up to the next blank line
 *
 * Output must not contain blank lines (the runner asserts it), so a blank
 * line always ends a block. With the environment variable RAFT_REWRITE=1 the
 * expected outputs are regenerated in place, for a human to review the diff.
 */
import { readFileSync, writeFileSync } from "node:fs";

export interface CommandArgument {
  readonly key: string;
  /** Empty for a bare word (`campaign 1` has key "1" and no values). */
  readonly values: readonly string[];
}

export interface TestCommand {
  readonly name: string;
  readonly args: readonly CommandArgument[];
  readonly input: readonly string[];
  /** "file:line" of the command, for error messages. */
  readonly position: string;
}

interface Block {
  /** Comments and blank lines before the command, kept verbatim for rewriting. */
  readonly preamble: string[];
  readonly commandLine: string;
  readonly command: TestCommand;
  readonly expected: string;
}

const { RAFT_REWRITE } = process.env;
export const REWRITE = RAFT_REWRITE === "1";

function parseArguments(text: string): CommandArgument[] {
  const args: CommandArgument[] = [];
  // A token is word, word=value or word=(v1,v2,...).
  for (const token of text.match(/\S+=\([^)]*\)|\S+/g) ?? []) {
    const equals = token.indexOf("=");
    if (equals < 0) {
      args.push({ key: token, values: [] });
      continue;
    }
    const raw = token.slice(equals + 1);
    const values = raw.startsWith("(")
      ? raw
          .slice(1, -1)
          .split(/[,\s]+/)
          .filter(Boolean)
      : [raw];
    args.push({ key: token.slice(0, equals), values });
  }
  return args;
}

function parse(path: string, text: string): { blocks: Block[]; trailer: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      preamble.push(line);
      i++;
      continue;
    }
    const position = `${path}:${i + 1}`;
    const commandLine = line;
    const input: string[] = [];
    i++;
    while (i < lines.length && lines[i] !== "----") input.push(lines[i++] ?? "");
    if (i >= lines.length) throw new Error(`${position}: missing ---- after command`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] ?? "") !== "") expected.push(lines[i++] ?? "");
    const [name = "", ...rest] = commandLine.trim().split(/\s+/);
    const command = { name, args: parseArguments(rest.join(" ")), input, position };
    blocks.push({ preamble, commandLine, command, expected: expected.join("\n") });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

/**
 * Runs every block of the script at `path` through `run`, comparing (or in
 * rewrite mode replacing) the expected output. Returns the mismatches.
 */
export function runScript(
  path: string,
  run: (command: TestCommand) => string,
): { position: string; expected: string; actual: string }[] {
  const { blocks, trailer } = parse(path, readFileSync(path, "utf8"));
  const mismatches: { position: string; expected: string; actual: string }[] = [];
  const rewritten: string[] = [];
  for (const block of blocks) {
    const actual = run(block.command).replace(/\n+$/, "");
    if (actual.split("\n").some((line) => line.trim() === "")) {
      throw new Error(`${block.command.position}: output must not contain blank lines`);
    }
    if (actual !== block.expected) {
      mismatches.push({ position: block.command.position, expected: block.expected, actual });
    }
    rewritten.push(...block.preamble, block.commandLine, ...block.command.input, "----", actual);
  }
  if (REWRITE) writeFileSync(path, `${[...rewritten, ...trailer].join("\n")}`);
  return REWRITE ? [] : mismatches;
}
