import type { EventMessage, EventName, EventPayload } from "../contract/api.js";

type Listener = (event: EventMessage) => void;

/** Fans service events out to every transport that subscribed (IPC windows, web sockets, the CLI). */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    const event = { name, payload } as EventMessage;
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
