// A room's timeline: day separators, sender names on the first message of a
// run, room changes as quiet lines, this device's messages with their
// delivery state, and the messages still on their way at the end.

import { type DeliveryStatus, type HistoryEvent, undecryptableReason } from "@parley/client";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";
import type { ChatState, PendingMessage, RoomView } from "../chat/chat-state.ts";
import { Delivery } from "./Delivery.tsx";
import { timelineRows } from "./day-separators.ts";
import { describeRoomChange } from "./room-change-text.ts";

/** Within this distance of the bottom, new messages keep the view at the bottom. */
const stickToBottomPx = 120;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

function Sender({ userId }: { readonly userId: string }) {
  const at = userId.indexOf("@");
  return (
    <span className="sender" title={userId}>
      <span className="sender-name">{userId.slice(0, at)}</span>
      <span className="sender-server">{userId.slice(at)}</span>
    </span>
  );
}

function placed(event: HistoryEvent) {
  return {
    sequence: event.sequence,
    acceptedAtMs: event.acceptedAtMs,
    runSender: event.type === "room-change" ? undefined : event.sender,
    event,
  };
}

interface TimelineProps {
  readonly model: ChatModel;
  readonly state: ChatState;
  readonly room: RoomView;
}

export function Timeline({ model, state, room }: TimelineProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const rows = useMemo(
    () => timelineRows(room.events.map(placed), { nowMs: Date.now() }),
    [room.events],
  );
  const pending: PendingMessage[] = state.pending.filter((item) => item.roomId === room.roomId);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element !== null && atBottom.current) element.scrollTop = element.scrollHeight;
  });

  useEffect(() => {
    const element = scroller.current;
    if (element === null) return;
    const onScroll = () => {
      atBottom.current =
        element.scrollHeight - element.scrollTop - element.clientHeight < stickToBottomPx;
    };
    element.addEventListener("scroll", onScroll, { passive: true });
    return () => element.removeEventListener("scroll", onScroll);
  }, []);

  async function loadOlder() {
    setLoadingOlder(true);
    atBottom.current = false;
    await model.loadOlder(room.roomId).catch(() => undefined);
    setLoadingOlder(false);
  }

  const deliveryOf = (clientId: string): DeliveryStatus => state.deliveries[clientId] ?? "accepted";

  return (
    <div className="timeline" ref={scroller} aria-live="polite">
      {!room.historyComplete && room.events.length > 0 && (
        <button
          type="button"
          className="quiet load-older"
          onClick={loadOlder}
          disabled={loadingOlder}
        >
          {loadingOlder ? "Loading…" : "Load older messages"}
        </button>
      )}
      {rows.map((row) => {
        if (row.kind === "day") {
          return (
            <div key={row.key} className="day-separator">
              <span>{row.label}</span>
            </div>
          );
        }
        const { event } = row.event;
        if (event.type === "room-change") {
          return (
            <div key={row.key} className="room-change" data-sequence={event.sequence}>
              {describeRoomChange(event.actor, event.action)}
            </div>
          );
        }
        const own = event.sender === state.userId;
        return (
          <div
            key={row.key}
            className={`message${own ? " own" : ""}${row.continuesRun ? " continued" : ""}`}
            data-sequence={event.sequence}
          >
            {!row.continuesRun && (
              <div className="message-meta">
                <Sender userId={event.sender} />
                <time
                  dateTime={new Date(event.acceptedAtMs).toISOString()}
                  title={fullFormat.format(event.acceptedAtMs)}
                >
                  {timeFormat.format(event.acceptedAtMs)}
                </time>
              </div>
            )}
            {event.type === "undecryptable" ? (
              <div className="message-body undecryptable">{undecryptableReason(event.error)}</div>
            ) : (
              <div className="message-body">{event.text ?? `(${event.contentType})`}</div>
            )}
            {event.fromThisDevice && (
              <Delivery
                status={deliveryOf(event.clientId)}
                error={state.deliveryErrors[event.clientId]}
                counts={state.deliveryCounts[event.clientId]}
                onRetry={() => model.retry(room.roomId, event.clientId)}
              />
            )}
          </div>
        );
      })}
      {pending.map((item) => (
        <div key={`pending-${item.clientId}`} className="message own pending">
          <div className="message-body">{item.text}</div>
          <Delivery
            status={state.deliveries[item.clientId] ?? "pending"}
            error={state.deliveryErrors[item.clientId]}
            counts={state.deliveryCounts[item.clientId]}
            onRetry={() => model.retry(room.roomId, item.clientId)}
          />
        </div>
      ))}
      {room.events.length === 0 && pending.length === 0 && (
        <p className="muted center">No messages yet.</p>
      )}
    </div>
  );
}
