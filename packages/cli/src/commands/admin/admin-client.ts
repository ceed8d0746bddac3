// The HTTP side of `parley admin`: one request to the homeserver's admin API
// (docs/protocol.md §10.11) with the admin token, JSON in and out, and list
// pages followed to the end (bounded). Errors carry the wire code.

import { ClientError } from "../../client/http-client.ts";

export const adminApiPath = "/_parley/admin/v1";

/** Pages read for one list; 100 pages of 1000 is more than any list an operator reads in a terminal. */
const pagesMax = 100;
const pageSize = 1000;

/** A page of a list: the items under their own field name, then `more` and `next`. */
interface PageAnswer {
  readonly more?: unknown;
  readonly next?: unknown;
  readonly [field: string]: unknown;
}

export class AdminClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.#token = token;
  }

  async request<Result>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
    const response = await fetch(`${this.baseUrl}${adminApiPath}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ClientError(response.status, {
        code: "bad_encoding",
        message: `the server answered HTTP ${response.status} with something that is not JSON`,
      });
    }
    if (!response.ok) throw new ClientError(response.status, parsed as Record<string, unknown>);
    return parsed as Result;
  }

  /** Every item of a paginated list (`{[field]: [...], more, next}`). */
  async list<Item>(path: string, field: string): Promise<Item[]> {
    const items: Item[] = [];
    let after: string | null = null;
    for (let page = 0; page < pagesMax; page += 1) {
      const query: string = `?limit=${pageSize}${after === null ? "" : `&after=${encodeURIComponent(after)}`}`;
      const answer = await this.request<PageAnswer>("GET", `${path}${query}`);
      const pageItems = answer[field];
      if (!Array.isArray(pageItems)) throw new Error(`the server's answer has no ${field} list`);
      items.push(...(pageItems as Item[]));
      if (answer.more !== true || typeof answer.next !== "string") return items;
      after = answer.next;
    }
    return items;
  }
}
