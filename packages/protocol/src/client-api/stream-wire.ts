// The JSON shapes of the client API's events and stream frames
// (docs/protocol.md §10.4, §10.7, §10.8), written once for every program:
// the homeserver builds them, the SDK and the `parley` tools read them. They
// are types only, so the browser-safe SDK can use them without importing the
// server. They describe the wire, not an application's model: readers still
// check what they use (a message's signature, a queue item's fields).

/**
 * A control event's decoded entry, for convenience. The canonical bytes in
 * the event's `signed` are the truth (chapter 11 gives the shapes); a reader
 * that needs typed actions decodes those.
 */
export interface ControlJson {
  readonly actor: unknown;
  readonly action: { readonly type: string };
}

/** What a control event of an encrypted room carries of MLS (§10.13). */
export interface MlsEventJson {
  readonly epoch: number;
  /** The commit (a PublicMessage), base64url; null for the create entry. */
  readonly commit: string | null;
  readonly added: ReadonlyArray<{ readonly userId: string; readonly deviceId: string }>;
}

/** One event of the server-wide stream, in history pages and on the stream (§10.7). */
export interface EventJson {
  readonly position: number;
  readonly roomId: string;
  readonly sequence: number;
  readonly kind: "message" | "control";
  readonly sender: string;
  readonly deviceId: string | null;
  readonly clientId: string | null;
  readonly contentType: string;
  readonly acceptedAtMs: number;
  readonly controlIndex: number;
  /**
   * The stamp's origin (§12.1) and that origin's sequence: with
   * `controlIndex` and `acceptedAtMs`, the history key (§12.4.3). Null for
   * control events.
   */
  readonly origin: string | null;
  readonly originSequence: number | null;
  /** The signed bytes (a message) or the canonical control entry, base64url. */
  readonly signed: string;
  readonly signature: string | null;
  readonly control?: ControlJson;
  readonly mls?: MlsEventJson | null;
}

/** `GET /rooms/{roomId}/messages` (§10.4): this server's arrival order, `next` a room sequence. */
export interface HistoryPageJson {
  readonly events: readonly EventJson[];
  readonly direction: "backward" | "forward";
  readonly more: boolean;
  readonly next: number;
}

/**
 * `GET /rooms/{roomId}/history` (§10.4): history order, the same on every
 * server of the room; `next` an opaque cursor, null when the page is empty
 * and no `from` was given.
 */
export interface OrderedHistoryPageJson {
  readonly events: readonly EventJson[];
  readonly direction: "backward" | "forward";
  readonly more: boolean;
  readonly next: string | null;
}

/** The answer to `POST /rooms/{roomId}/messages` (§10.4) and the body of a `sent` frame. */
export interface AcceptedMessageJson {
  readonly sequence: number;
  readonly streamPosition: number;
  readonly acceptedAtMs: number;
  readonly controlIndex: number;
  /** True when this client id was stored before: the answer is the first one's. */
  readonly duplicate: boolean;
}

/**
 * A queue item's body (§10.8): an invite, a membership notice, a Welcome.
 * Fields are unknown until checked: a newer server may send kinds and
 * fields an older reader does not know.
 */
export interface NoticeBodyJson {
  readonly type?: unknown;
  readonly roomId?: unknown;
  readonly membership?: unknown;
  readonly by?: unknown;
  readonly logIndex?: unknown;
  readonly name?: unknown;
  readonly reason?: unknown;
  readonly [field: string]: unknown;
}

/** An item of the device's own queue (§10.8). */
export interface QueueItemJson {
  readonly position: number;
  readonly id: string;
  readonly kind: string;
  readonly body: NoticeBodyJson;
  readonly createdAtMs: number;
}

/** A refusal as every error answer carries it (§10.1). */
export interface ErrorJson {
  readonly code: string;
  readonly message: string;
  readonly retryAfterMs?: number;
  readonly roomCode?: string;
}

/** How far one message a user sent has come (§10.14); counts only grow. */
export interface DeliveryItemJson {
  readonly roomId: string;
  /** The message's stream position on the sender's server (its acceptance's `streamPosition`). */
  readonly position: number;
  readonly servers: { readonly delivered: number; readonly total: number };
  readonly devices: { readonly delivered: number; readonly total: number };
  readonly refused: ReadonlyArray<{ readonly server: string; readonly code: string }>;
}

/** Frames the server sends on the stream (§10.8). */
export type ServerFrame =
  | {
      readonly type: "ready";
      readonly userId: string;
      readonly deviceId: string;
      readonly streamPosition: number;
      readonly queuePosition: number;
    }
  | { readonly type: "events"; readonly through: number; readonly events: readonly EventJson[] }
  | { readonly type: "missed"; readonly count: number; readonly through: number }
  | {
      readonly type: "queue";
      readonly items: readonly QueueItemJson[];
      readonly missed: { readonly count: number; readonly through: number } | null;
    }
  | { readonly type: "pong" }
  | { readonly type: "delivery"; readonly items: readonly DeliveryItemJson[] }
  | ({ readonly type: "sent"; readonly id: string } & AcceptedMessageJson)
  | ({ readonly type: "error"; readonly id: string } & ErrorJson);
