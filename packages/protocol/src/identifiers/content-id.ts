import { decodeBase64url, encodeBase64url } from "../codec/base64url.ts";
import { sha256, sha256Bytes } from "../crypto/hashing.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { contentTypeBytesMax } from "../limits.ts";

declare const contentIdBrand: unique symbol;

/**
 * A content-addressed id: `type:digest`, where digest is the base64url
 * SHA-256 of the object's canonical CBOR bytes (43 characters), e.g.
 * `device-record:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg`. The type names
 * what kind of object it is, so ids of different kinds never look alike.
 */
export type ContentId = string & { readonly [contentIdBrand]: true };

export interface ContentIdParts {
  readonly type: string;
  readonly digest: Uint8Array;
}

/** A type is a lower-case word: a-z first, then a-z, 0-9 and "-", at most 32 characters. */
const contentTypePattern = /^[a-z][a-z0-9-]*$/;
const digestLength = 43;

export function isContentType(text: string): boolean {
  return text.length <= contentTypeBytesMax && contentTypePattern.test(text);
}

/** The id of an object of kind `type` whose canonical encoding is `canonicalBytes`. */
export function contentIdOf(type: string, canonicalBytes: Uint8Array): ContentId {
  if (!isContentType(type)) throw new ParleyError("invalid_argument", `bad content type "${type}"`);
  return `${type}:${encodeBase64url(sha256(canonicalBytes))}` as ContentId;
}

export function parseContentId(text: string): ContentId {
  contentIdParts(text);
  return text as ContentId;
}

export function contentIdParts(text: string): ContentIdParts {
  const colon = text.indexOf(":");
  const type = text.slice(0, colon);
  const digestText = text.slice(colon + 1);
  if (colon === -1 || !isContentType(type) || digestText.length !== digestLength) {
    throw new ParleyError("bad_content_id", "a content id is type:<43 base64url characters>");
  }
  let digest: Uint8Array;
  try {
    digest = decodeBase64url(digestText);
  } catch (cause) {
    throw new ParleyError("bad_content_id", "a content id's digest is canonical base64url", {
      cause,
    });
  }
  if (digest.length !== sha256Bytes)
    throw new ParleyError("bad_content_id", "digest is not 32 bytes");
  return { type, digest };
}
