// Hands client events to the application's listeners, by type or all of
// them. A listener that throws does not stop the others or the stream: its
// error is rethrown on its own turn of the event loop, where the platform
// reports it as any uncaught error.

import type { ClientEvent, ClientEventType } from "./client-events.ts";

type Listener = (event: ClientEvent) => void;

export class EventHub {
  readonly #listeners = new Set<{ type: ClientEventType | undefined; listener: Listener }>();

  on<Type extends ClientEventType>(
    type: Type,
    listener: (event: Extract<ClientEvent, { type: Type }>) => void,
  ): () => void {
    return this.#add(type, listener as Listener);
  }

  onEvent(listener: Listener): () => void {
    return this.#add(undefined, listener);
  }

  emit(event: ClientEvent): void {
    for (const { type, listener } of [...this.#listeners]) {
      if (type !== undefined && type !== event.type) continue;
      try {
        listener(event);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  #add(type: ClientEventType | undefined, listener: Listener): () => void {
    const entry = { type, listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }
}
