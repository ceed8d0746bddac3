// What the live connection is doing, in words; nothing while it is connected.

import type { ConnectionState } from "@parley/client";
import { describeError } from "../errors/error-messages.ts";

interface ConnectionBannerProps {
  readonly connection: ConnectionState;
  readonly onReconnect: () => void;
}

export function ConnectionBanner({ connection, onReconnect }: ConnectionBannerProps) {
  switch (connection.status) {
    case "connected":
      return (
        <div className="connection ok" data-connection="connected">
          <span className="dot" /> Connected
        </div>
      );
    case "connecting":
      return (
        <div className="connection busy" data-connection="connecting">
          <span className="dot" /> Connecting…
        </div>
      );
    case "reconnecting":
      return (
        <div
          className="connection busy"
          data-connection="reconnecting"
          title={describeError(connection.error)}
        >
          <span className="dot" /> Connection lost; trying again in{" "}
          {Math.max(1, Math.round(connection.delayMs / 1000))} s
        </div>
      );
    case "stopped":
      return (
        <div className="connection down" data-connection="stopped">
          <span className="dot" />{" "}
          {connection.error === undefined ? "Not connected" : describeError(connection.error)}
          <button type="button" className="quiet" onClick={onReconnect}>
            Reconnect
          </button>
        </div>
      );
  }
}
