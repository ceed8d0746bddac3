// The delivery state beside a message this device sent (§10.14): words for
// the state, the server's counts as the tooltip once reported, and a retry
// button when the send failed.

import type { DeliveryStatus } from "@parley/client";

const deliveryWords: Record<DeliveryStatus, string> = {
  pending: "Sending…",
  accepted: "Sent",
  delivered: "Delivered",
  failed: "Not sent",
};

const deliveryTitles: Record<DeliveryStatus, string> = {
  pending: "On its way to your server",
  accepted: "Stored by the room's server: it will not be lost",
  delivered: "Every server of the room has it",
  failed: "Your server did not accept it",
};

interface DeliveryProps {
  readonly status: DeliveryStatus;
  readonly error: string | undefined;
  /** The server's counts in words (§10.14), once reported. */
  readonly counts: string | undefined;
  readonly onRetry: () => void;
}

export function Delivery({ status, error, counts, onRetry }: DeliveryProps) {
  return (
    <span
      className={`delivery ${status}`}
      data-delivery={status}
      title={error ?? counts ?? deliveryTitles[status]}
      data-counts={counts}
    >
      {deliveryWords[status]}
      {status === "failed" && (
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </span>
  );
}
