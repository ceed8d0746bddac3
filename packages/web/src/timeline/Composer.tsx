// The message box: Enter sends, Shift+Enter starts a new line. Sending never
// waits for the server: the message shows at once with its delivery state.

import { type KeyboardEvent, useRef, useState } from "react";
import type { ChatModel } from "../chat/chat-model.ts";

/** The protocol's body limit (65 536 bytes, §9.1), counted in UTF-8. */
const messageBytesMax = 65_536;

interface ComposerProps {
  readonly model: ChatModel;
  readonly roomId: string;
}

export function Composer({ model, roomId }: ComposerProps) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLTextAreaElement>(null);
  const tooLong = new TextEncoder().encode(text).length > messageBytesMax;

  async function send() {
    const body = text.trim();
    if (body === "" || tooLong) return;
    setText("");
    setError(undefined);
    try {
      await model.send(roomId, body);
    } catch (failure) {
      setText(body);
      setError(failure instanceof Error ? failure.message : String(failure));
    }
    input.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send().catch(() => undefined);
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send().catch(() => undefined);
      }}
    >
      {(error !== undefined || tooLong) && (
        <p className="error-text small" role="alert">
          {tooLong ? "This message is too long to send." : error}
        </p>
      )}
      <div className="composer-row">
        <textarea
          ref={input}
          rows={1}
          value={text}
          placeholder="Write a message"
          aria-label="Message"
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={text.trim() === "" || tooLong}>
          Send
        </button>
      </div>
    </form>
  );
}
