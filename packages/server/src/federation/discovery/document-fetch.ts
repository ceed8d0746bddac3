// The real fetch of a key document over HTTP(S): no redirects (the document
// must come from the server it names, §6.4), a time limit, and a size limit
// enforced while reading, so a hostile server cannot make us buffer much.

import { ParleyError } from "@parley/protocol";

export async function fetchDocumentBytes(
  url: string,
  bytesMax: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/cbor" },
    });
  } catch (error) {
    throw new ParleyError("unavailable", `cannot reach ${url}`, { cause: error });
  }
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    throw new ParleyError("unavailable", `${url} answered ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > bytesMax) {
        throw new ParleyError("payload_too_large", `${url} sent more than ${bytesMax} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ParleyError) throw error;
    throw new ParleyError("unavailable", `reading ${url} failed`, { cause: error });
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
