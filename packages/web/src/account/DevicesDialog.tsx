// The user's devices, with a way to revoke a lost one. Revoking ends its
// sessions at once, and the SDK then takes it out of the user's encrypted
// rooms, so it cannot read what is sent after (docs/protocol.md §10.2).

import type { ParleyClient } from "@parley/client";
import { useCallback, useEffect, useState } from "react";
import { describeError } from "../errors/error-messages.ts";
import { Dialog } from "../rooms/Dialog.tsx";
import { type DeviceRow, deviceRows } from "./device-rows.ts";

interface DevicesDialogProps {
  readonly client: ParleyClient;
  readonly onClose: () => void;
}

export function DevicesDialog({ client, onClose }: DevicesDialogProps) {
  const [rows, setRows] = useState<DeviceRow[] | undefined>();
  const [busyId, setBusyId] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  const load = useCallback(async () => {
    try {
      setRows(deviceRows(await client.devices.list()));
    } catch (failure) {
      setError(describeError(failure, "load"));
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(row: DeviceRow) {
    setBusyId(row.deviceId);
    setError(undefined);
    try {
      await client.devices.revoke(row.deviceId);
      await load();
    } catch (failure) {
      setError(describeError(failure, "room-action"));
    } finally {
      setBusyId(undefined);
    }
  }

  return (
    <Dialog title="Your devices" onClose={onClose}>
      {rows === undefined && error === undefined && <p className="muted">Loading…</p>}
      {rows !== undefined && (
        <ul className="device-list">
          {rows.map((row) => (
            <li key={row.deviceId} className="row" data-device={row.deviceId}>
              <code title={row.deviceId}>{row.shortId}</code>
              <span className="muted grow">{row.description}</span>
              {row.revocable && (
                <button
                  type="button"
                  disabled={busyId !== undefined}
                  onClick={() => void revoke(row)}
                >
                  {busyId === row.deviceId ? "Revoking…" : "Revoke"}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {error !== undefined && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
