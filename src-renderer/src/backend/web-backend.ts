// Web mode's backend: the API over one WebSocket to the local host that served this page.
import type { EventMessage, RawApi } from "../../../src-main/contract/api.js";
import type { Envelope } from "../../../src-main/contract/errors.js";
import type {
  ClientFrame,
  ServerFrame,
  WEB_SOCKET_PATH,
  WEB_TOKEN_PARAM,
} from "../../../src-main/contract/web-protocol.js";

// The renderer may import only types from the contract; typing the literals with the contract's
// constants makes the compiler check that both sides spell them the same.
const SOCKET_PATH: typeof WEB_SOCKET_PATH = "/api";
const TOKEN_PARAM: typeof WEB_TOKEN_PARAM = "token";
const TOKEN_STORAGE_KEY = "billa.webToken";

/**
 * The token arrives in the URL fragment printed by `npm run web`. Keep it for this tab (so a reload works)
 * and take it out of the address bar.
 */
export function takeWebToken(location: Location, storage: Storage): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get(TOKEN_PARAM);
  if (fromUrl) {
    storage.setItem(TOKEN_STORAGE_KEY, fromUrl);
    history.replaceState(null, "", `${location.pathname}${location.search}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_STORAGE_KEY);
}

type Pending = { resolve: (envelope: Envelope<unknown>) => void };

export function createWebBackend(host: string, token: string): RawApi {
  const listeners = new Set<(event: EventMessage) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let socket: Promise<WebSocket> | undefined;

  function failPending(message: string): void {
    for (const { resolve } of pending.values()) resolve({ ok: false, error: { code: "internal", message } });
    pending.clear();
  }

  function connect(): Promise<WebSocket> {
    socket ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}${SOCKET_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`);
      ws.addEventListener("open", () => resolve(ws));
      ws.addEventListener("message", (message) => {
        const frame = JSON.parse(String(message.data)) as ServerFrame;
        if (frame.type === "event") {
          for (const listener of listeners) listener(frame.event);
        } else {
          pending.get(frame.id)?.resolve(frame.envelope);
          pending.delete(frame.id);
        }
      });
      ws.addEventListener("close", () => {
        socket = undefined;
        failPending("The connection to BiLLa Desktop's local server was lost. Is `npm run web` still running?");
        reject(new Error("closed"));
      });
    });
    return socket;
  }

  return {
    async invoke(name, input) {
      let ws: WebSocket;
      try {
        ws = await connect();
      } catch {
        return { ok: false, error: { code: "internal", message: "Could not reach BiLLa Desktop's local server. Open the address `npm run web` printed." } };
      }
      const id = nextId++;
      const frame: ClientFrame = { type: "invoke", id, name, input };
      return new Promise((resolve) => {
        pending.set(id, { resolve });
        ws.send(JSON.stringify(frame));
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
  };
}
