import { ParleyError } from "../errors/parley-error.ts";

/**
 * Base64url without padding (RFC 4648 §5), the text form of every key and
 * hash in Parley. Decoding is strict so each byte string has exactly one text
 * form: only the 64 alphabet characters, no padding, no whitespace, and the
 * unused low bits of the last character must be zero.
 */

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const valueOfCharacter = new Int8Array(128).fill(-1);
for (let index = 0; index < alphabet.length; index += 1) {
  valueOfCharacter[alphabet.charCodeAt(index)] = index;
}

export function encodeBase64url(bytes: Uint8Array): string {
  let text = "";
  let index = 0;
  for (; index + 3 <= bytes.length; index += 3) {
    const group =
      ((bytes[index] ?? 0) << 16) | ((bytes[index + 1] ?? 0) << 8) | (bytes[index + 2] ?? 0);
    text +=
      character(group >> 18) + character(group >> 12) + character(group >> 6) + character(group);
  }
  const left = bytes.length - index;
  if (left === 1) {
    const group = (bytes[index] ?? 0) << 16;
    text += character(group >> 18) + character(group >> 12);
  } else if (left === 2) {
    const group = ((bytes[index] ?? 0) << 16) | ((bytes[index + 1] ?? 0) << 8);
    text += character(group >> 18) + character(group >> 12) + character(group >> 6);
  }
  return text;
}

/** Decodes canonical unpadded base64url; anything else is `bad_encoding`. */
export function decodeBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw invalid("its length cannot come from whole bytes");
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let accumulator = 0;
  let bitCount = 0;
  let written = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const value = code < 128 ? (valueOfCharacter[code] ?? -1) : -1;
    if (value < 0) throw invalid(`character ${JSON.stringify(text[index])} at ${index}`);
    accumulator = ((accumulator << 6) | value) & 0xffffff;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes[written] = (accumulator >> bitCount) & 0xff;
      written += 1;
    }
  }
  if ((accumulator & ((1 << bitCount) - 1)) !== 0) {
    throw invalid("the unused bits of its last character are not zero");
  }
  return bytes;
}

function character(sixBits: number): string {
  return alphabet[sixBits & 0x3f] ?? "";
}

function invalid(reason: string): ParleyError {
  return new ParleyError("bad_encoding", `not canonical base64url: ${reason}`);
}
