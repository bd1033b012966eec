// Electron cannot run here, so these tests check the Electron layer's pieces without it: the window's
// security settings as main.ts creates them, the sender check, and the compiled preload with a stand-in
// `electron` module (the only mock in the suite, because the real one needs Electron's binary).
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { EVENT_CHANNEL, INVOKE_CHANNEL } from "../../src-main/transports/electron/ipc-channels.js";
import { isTrustedSender, mainWindowOptions } from "../../src-main/transports/electron/security.js";

describe("the main window's security settings", () => {
  const preferences = mainWindowOptions("/app/preload.cjs").webPreferences!;

  it("isolates and sandboxes the renderer with no Node integration", () => {
    expect(preferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(preferences.preload).toBe("/app/preload.cjs");
  });
});

describe("the IPC sender check", () => {
  const index = "/opt/billa/build/renderer/index.html";
  const ours = pathToFileURL(index).href;

  it("accepts our page in the top frame, whatever its fragment", () => {
    expect(isTrustedSender({ url: ours, parent: null }, index)).toBe(true);
    expect(isTrustedSender({ url: `${ours}#/settings`, parent: null }, index)).toBe(true);
  });

  it("refuses subframes, other files, remote pages and a missing frame", () => {
    expect(isTrustedSender({ url: ours, parent: {} }, index)).toBe(false);
    expect(isTrustedSender({ url: "file:///tmp/evil.html", parent: null }, index)).toBe(false);
    expect(isTrustedSender({ url: "https://example.com/", parent: null }, index)).toBe(false);
    expect(isTrustedSender(null, index)).toBe(false);
  });
});

describe("the compiled preload", () => {
  function loadPreload() {
    const exposed = new Map<string, unknown>();
    const invoked: unknown[][] = [];
    const handlers = new Map<string, (...args: unknown[]) => void>();
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: (...args: unknown[]) => {
          invoked.push(args);
          return Promise.resolve({ ok: true, value: null });
        },
        on: (channel: string, handler: (...args: unknown[]) => void) => handlers.set(channel, handler),
        removeListener: (channel: string) => handlers.delete(channel),
      },
    };
    const preloadPath = join(APP_ROOT, "build", "main", "transports", "electron", "preload.cjs");
    const requireFromTest = createRequire(import.meta.url);
    const Module = requireFromTest("node:module") as { _load: (request: string, ...rest: unknown[]) => unknown };
    const originalLoad = Module._load;
    Module._load = (request, ...rest) => (request === "electron" ? fakeElectron : originalLoad(request, ...rest));
    try {
      delete requireFromTest.cache[preloadPath];
      requireFromTest(preloadPath);
    } finally {
      Module._load = originalLoad;
    }
    return { exposed, invoked, handlers };
  }

  it("exposes only the typed client, under one name", () => {
    const { exposed } = loadPreload();
    expect([...exposed.keys()]).toEqual(["billa"]);
    expect(Object.keys(exposed.get("billa") as object).sort()).toEqual(["invoke", "subscribe"]);
  });

  it("sends requests on the main process's invoke channel", async () => {
    const { exposed, invoked } = loadPreload();
    const api = exposed.get("billa") as { invoke(name: string, input: unknown): Promise<unknown> };
    await api.invoke("system.info", {});
    expect(invoked).toEqual([[INVOKE_CHANNEL, "system.info", {}]]);
  });

  it("passes events on without Electron's event object, and unsubscribes", () => {
    const { exposed, handlers } = loadPreload();
    const api = exposed.get("billa") as { subscribe(listener: (event: unknown) => void): () => void };
    const received: unknown[] = [];
    const unsubscribe = api.subscribe((event) => received.push(event));
    const message = { name: "model.loadProgress", payload: { modelId: "m", progress: 0.5 } };
    handlers.get(EVENT_CHANNEL)!({ sender: "ipc internals" }, message);
    expect(received).toEqual([message]);
    unsubscribe();
    expect(handlers.has(EVENT_CHANNEL)).toBe(false);
  });
});
