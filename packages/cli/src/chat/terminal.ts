// The terminal side of `parley chat`: a readline prompt at the bottom, lines
// printed above it without disturbing what the user is typing, the last
// printed line rewritable in place (for delivery marks), and a password
// prompt that does not echo. Plain ANSI line editing only, so it works in any
// terminal and over SSH; without a terminal (a pipe) it just writes lines.

import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export interface TerminalStreams {
  readonly input: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly output: Writable & { isTTY?: boolean; columns?: number };
}

const clearLine = "\r\x1b[K";
const lineUp = "\x1b[1A";

export class ChatTerminal {
  readonly #streams: TerminalStreams;
  #readline: Interface | undefined;
  #lastKey: string | undefined;

  constructor(streams: TerminalStreams) {
    this.#streams = streams;
  }

  get interactive(): boolean {
    return this.#streams.output.isTTY === true;
  }

  /** Starts reading lines; `onLine` gets each, `onClose` runs at end of input or Ctrl-C. */
  start(prompt: string, onLine: (line: string) => void, onClose: () => void): void {
    const readline = createInterface({
      input: this.#streams.input,
      output: this.#streams.output,
      terminal: this.interactive,
      prompt,
    });
    this.#readline = readline;
    readline.on("line", (line) => {
      this.#lastKey = undefined;
      onLine(line);
    });
    readline.on("close", onClose);
    readline.on("SIGINT", () => readline.close());
    readline.prompt();
  }

  setPrompt(prompt: string): void {
    this.#readline?.setPrompt(prompt);
    this.#redraw();
  }

  /**
   * Removes the line the user just typed from the screen (when its content
   * is about to be printed formatted, as a message is).
   */
  eraseTypedLine(line: string): void {
    if (!this.interactive || this.#readline === undefined) return;
    const typed = [...this.#readline.getPrompt()].length + [...line].length;
    const rows = Math.max(1, Math.ceil(typed / this.#columns()));
    // After Enter the cursor is on the row below what was typed.
    this.#streams.output.write(clearLine + `${lineUp}${clearLine}`.repeat(rows));
  }

  /** Prints a line above the prompt; `key` lets `update` rewrite it while it is the last one. */
  print(line: string, key?: string): void {
    const { output } = this.#streams;
    if (this.#readline !== undefined && this.interactive) output.write(clearLine);
    output.write(`${line}\n`);
    this.#lastKey = key;
    this.#redraw();
  }

  /**
   * Rewrites the line printed with `key` if nothing was printed after it and
   * it fits on one row; otherwise prints `fallback` as a new line.
   */
  update(key: string, line: string, fallback: string): void {
    if (this.interactive && this.#lastKey === key && [...line].length < this.#columns()) {
      this.#streams.output.write(`${clearLine}${lineUp}${clearLine}`);
      this.print(line, key);
    } else {
      this.print(fallback);
    }
  }

  /** The terminal's width; a pty nobody sized reports 0, taken as 80. */
  #columns(): number {
    const columns = this.#streams.output.columns ?? 0;
    return columns > 0 ? columns : 80;
  }

  #redraw(): void {
    if (!this.interactive || this.#readline === undefined) return;
    this.#streams.output.write(clearLine);
    this.#readline.prompt(true);
  }

  close(): void {
    const readline = this.#readline;
    this.#readline = undefined;
    readline?.close();
  }

  /**
   * Asks for a secret without echoing it (raw mode on a terminal; a plain line
   * from a pipe). Rejects on Ctrl-C or end of input.
   */
  askHidden(prompt: string): Promise<string> {
    const { input, output } = this.#streams;
    output.write(prompt);
    const raw = input.isTTY === true && input.setRawMode !== undefined;
    if (raw) input.setRawMode?.(true);
    input.resume();
    return new Promise((resolve, reject) => {
      let secret = "";
      const finish = (error: Error | undefined) => {
        input.off("data", onData);
        input.off("end", onEnd);
        if (raw) input.setRawMode?.(false);
        input.pause();
        output.write("\n");
        if (error === undefined) resolve(secret);
        else reject(error);
      };
      const onEnd = () => finish(new Error("no password given"));
      const onData = (chunk: Buffer | string) => {
        for (const character of chunk.toString()) {
          if (character === "\r" || character === "\n") return finish(undefined);
          if (character === "\u0003" || character === "\u0004")
            return finish(new Error("cancelled"));
          if (character === "\u007f" || character === "\b")
            secret = [...secret].slice(0, -1).join("");
          else secret += character;
        }
      };
      input.on("data", onData);
      input.on("end", onEnd);
    });
  }
}
