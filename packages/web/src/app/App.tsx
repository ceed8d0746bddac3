// The top of the page: opens the browser database, restores the saved device
// and session if there is one, and shows either the sign-in screen or the
// chat. The homeserver is the page's own origin.

import type { HistoryEvent } from "@parley/client";
import { ParleyClient } from "@parley/client";
import { useCallback, useEffect, useState } from "react";
import { AuthScreen } from "../account/AuthScreen.tsx";
import { ChatScreen } from "../chat/ChatScreen.tsx";
import { ChatModel } from "../chat/chat-model.ts";
import { describeError, errorCode, UserFacingError } from "../errors/error-messages.ts";
import { BrowserDatabase } from "../storage/browser-database.ts";
import { RoomCache } from "../storage/room-cache.ts";

type Phase =
  | { readonly kind: "loading" }
  | { readonly kind: "signed-out"; readonly database: BrowserDatabase; readonly notice?: string }
  | { readonly kind: "signed-in"; readonly database: BrowserDatabase; readonly model: ChatModel }
  | { readonly kind: "broken"; readonly message: string };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });

  const enter = useCallback(async (database: BrowserDatabase, client: ParleyClient) => {
    const model = new ChatModel(client, new RoomCache<HistoryEvent>(database, client.userId));
    setPhase({ kind: "signed-in", database, model });
    // Other failures stay on the chat screen as its notice; the stream retries.
    await model.start().catch(async (error: unknown) => {
      if (errorCode(error) === "unauthorized" || errorCode(error) === "device_revoked") {
        await model.stop().catch(() => undefined);
        const cause = error instanceof UserFacingError ? error.cause : error;
        setPhase({ kind: "signed-out", database, notice: describeError(cause, "restore") });
      }
    });
  }, []);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const database = await BrowserDatabase.open(window);
      const client = await ParleyClient.restore({ store: database.client });
      if (cancelled) return;
      if (client === undefined) setPhase({ kind: "signed-out", database });
      else await enter(database, client);
    })().catch((error: unknown) => {
      if (!cancelled) setPhase({ kind: "broken", message: describeError(error, "restore") });
    });
    return () => {
      cancelled = true;
    };
  }, [enter]);

  switch (phase.kind) {
    case "loading":
      return <div className="splash">Loading…</div>;
    case "broken":
      return (
        <div className="splash">
          <p>Parley could not start in this browser.</p>
          <p className="error-text">{phase.message}</p>
        </div>
      );
    case "signed-out":
      return (
        <AuthScreen
          store={phase.database.client}
          {...(phase.notice === undefined ? {} : { notice: phase.notice })}
          onSignedIn={(client) => enter(phase.database, client)}
        />
      );
    case "signed-in":
      return (
        <ChatScreen
          model={phase.model}
          onSignedOut={() => setPhase({ kind: "signed-out", database: phase.database })}
        />
      );
  }
}
