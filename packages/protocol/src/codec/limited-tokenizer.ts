import { type Token, Tokenizer } from "cborg";
import { ParleyError } from "../errors/parley-error.ts";
import type { DecodeLimits } from "../limits.ts";

const majorUnsigned = 0;
const majorNegative = 1;
const majorBytes = 2;
const majorText = 3;
const majorArray = 4;
const majorMap = 5;
const majorTag = 6;
const majorSimple = 7;

/** Major type 7 tokens the value model has: false, true, null (floats and undefined are not). */
const allowedSimpleNames = new Set(["false", "true", "null"]);

/**
 * Strict UTF-8: throws on ill-formed input instead of substituting U+FFFD, and
 * keeps a leading U+FEFF (cborg's own decoder strips it, which would make such
 * a string fail to round-trip).
 */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Wraps cborg's tokenizer to enforce the value model and the decode limits
 * token by token, *before* cborg's recursive decoder descends into a
 * container. A deeply nested or oversized input is therefore refused after
 * reading at most `depthMax` container headers, never by exhausting the stack.
 *
 * Depth bookkeeping: `remaining` holds, for every open container, how many
 * child tokens it still expects (a map expects two per entry). A container
 * whose count reached zero is closed lazily when the next token arrives.
 */
export class LimitedTokenizer {
  readonly #inner: Tokenizer;
  readonly #data: Uint8Array;
  readonly #limits: DecodeLimits;
  readonly #remaining: number[] = [];

  constructor(data: Uint8Array, limits: DecodeLimits) {
    this.#data = data;
    this.#limits = limits;
    this.#inner = new Tokenizer(data, {
      strict: true,
      allowIndefinite: false,
      allowUndefined: false,
      allowNaN: false,
      allowInfinity: false,
      allowBigInt: false,
    });
  }

  done(): boolean {
    return this.#inner.done();
  }

  pos(): number {
    return this.#inner.pos();
  }

  next(): Token {
    const start = this.#inner.pos();
    const token = this.#inner.next();
    this.#takeSlot();
    switch (token.type.major) {
      case majorUnsigned:
      case majorNegative:
        // cborg already refuses 64-bit values outside the safe range; this
        // also covers -2^53, which is one past the safe range.
        if (!Number.isSafeInteger(token.value)) this.#fail(start, "integer outside the safe range");
        break;
      case majorBytes:
        this.#checkStringLength(start, token);
        break;
      case majorText:
        this.#checkText(start, token);
        break;
      case majorArray:
        this.#openContainer(start, token.value, 1);
        break;
      case majorMap:
        this.#openContainer(start, token.value, 2);
        break;
      case majorTag:
        this.#fail(start, `tags are not allowed (tag ${String(token.value)})`);
        break;
      case majorSimple:
        if (!allowedSimpleNames.has(token.type.name)) {
          this.#fail(start, `${token.type.name} values are not allowed`);
        }
        break;
      default:
        this.#fail(start, `unknown major type ${token.type.major}`);
    }
    return token;
  }

  /** Counts `token` against the innermost open container. */
  #takeSlot(): void {
    const remaining = this.#remaining;
    while (remaining.length > 0 && remaining[remaining.length - 1] === 0) remaining.pop();
    const top = remaining.length - 1;
    const left = remaining[top];
    if (left !== undefined) remaining[top] = left - 1;
  }

  #openContainer(start: number, count: unknown, tokensPerItem: number): void {
    if (typeof count !== "number" || !Number.isSafeInteger(count)) {
      this.#fail(start, "container without a definite length");
    }
    if (count > this.#limits.containerItemsMax) {
      this.#fail(start, `container has ${count} items, limit ${this.#limits.containerItemsMax}`);
    }
    this.#remaining.push(count * tokensPerItem);
    if (this.#remaining.length > this.#limits.depthMax) {
      this.#fail(start, `nesting deeper than ${this.#limits.depthMax}`);
    }
  }

  #checkStringLength(start: number, token: Token): number {
    const headerBytes = headerBytesOf(this.#data[start] ?? 0);
    const length = (token.encodedLength ?? 0) - headerBytes;
    if (length > this.#limits.stringBytesMax) {
      this.#fail(start, `string of ${length} bytes, limit ${this.#limits.stringBytesMax}`);
    }
    return headerBytes;
  }

  #checkText(start: number, token: Token): void {
    const headerBytes = this.#checkStringLength(start, token);
    const end = start + (token.encodedLength ?? 0);
    const bytes = this.#data.subarray(start + headerBytes, end);
    if (isAscii(bytes)) return;
    try {
      token.value = strictUtf8.decode(bytes);
    } catch (cause) {
      this.#fail(start, "text string is not well-formed UTF-8", cause);
    }
  }

  #fail(offset: number, reason: string, cause?: unknown): never {
    const options = cause === undefined ? {} : { cause };
    throw new ParleyError("bad_encoding", `${reason} (at byte ${offset})`, options);
  }
}

/** Bytes taken by an item's initial byte plus its length argument (RFC 8949 §3). */
function headerBytesOf(initialByte: number): number {
  const additional = initialByte & 0x1f;
  if (additional < 24) return 1;
  if (additional === 24) return 2;
  if (additional === 25) return 3;
  if (additional === 26) return 5;
  return 9;
}

function isAscii(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte >= 0x80) return false;
  return true;
}
