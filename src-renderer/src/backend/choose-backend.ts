// One backend interface, two implementations chosen at start-up: Electron's preload bridge or web mode's socket.
import type { ApiClient, RawApi } from "../../../src-main/contract/api.js";
import { createApiClient } from "./api-client.js";
import { createWebBackend, takeWebToken } from "./web-backend.js";

declare global {
  interface Window {
    /** Set by Electron's preload; absent in a browser. */
    billa?: RawApi;
  }
}

export type BackendChoice = { kind: "electron" | "web"; client: ApiClient } | { kind: "missing-token" };

export function chooseBackend(): BackendChoice {
  if (window.billa) return { kind: "electron", client: createApiClient(window.billa) };
  const token = takeWebToken(window.location, window.sessionStorage);
  if (!token) return { kind: "missing-token" };
  return { kind: "web", client: createApiClient(createWebBackend(window.location.host, token)) };
}
