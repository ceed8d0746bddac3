// `parley chat` in a real pseudo-terminal: util-linux `script` gives the
// command a pty (so it sees a TTY, raw mode and all, as over SSH), this side
// types into it and reads what it prints, ANSI escapes removed.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const parley = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));
const outputCharactersMax = 1_000_000;

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Removes CSI sequences (cursor moves, line clears) and carriage returns. */
export function withoutEscapes(text: string): string {
  let plain = "";
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === "\u001b" && text[index + 1] === "[") {
      index += 2;
      while (index < text.length && !/[@-~]/.test(text[index] ?? "")) index += 1;
      continue;
    }
    if (character !== "\r") plain += character;
  }
  return plain;
}

export class TerminalSession {
  readonly #child: ChildProcess;
  #output = "";
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], environment: Readonly<Record<string, string>>) {
    const command = [process.execPath, parley, ...args].map(shellQuote).join(" ");
    this.#child = spawn("script", ["-qfec", command, "/dev/null"], {
      env: { ...process.env, TERM: "xterm", ...environment },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const append = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-outputCharactersMax);
    };
    this.#child.stdout?.on("data", append);
    this.#child.stderr?.on("data", append);
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
  }

  /** Everything printed so far, escapes removed. */
  get screen(): string {
    return withoutEscapes(this.#output);
  }

  /** Types a line as a user would (Enter is a carriage return on a terminal). */
  type(line: string): void {
    this.#child.stdin?.write(`${line}\r`);
  }

  /** Waits until the screen (from `after` on) matches; returns the match. */
  async waitFor(
    pattern: RegExp,
    options: { after?: number; timeoutMs?: number } = {},
  ): Promise<RegExpExecArray> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const match = pattern.exec(this.screen.slice(options.after ?? 0));
      if (match !== null) return match;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${pattern} on the terminal:\n${this.screen.slice(-3000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  kill(): void {
    this.#child.kill("SIGKILL");
  }
}
