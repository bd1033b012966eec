// Runs in the sandboxed renderer before the page. It exposes the typed API client and nothing else:
// no ipcRenderer, no Electron event objects. A sandboxed preload cannot load our other modules,
// so the channel names are written out here; a test checks them against ipc-channels.ts.
import electron = require("electron");
import type { EventMessage, RawApi } from "../../contract/api.js";

const api: RawApi = {
  invoke: (name, input) => electron.ipcRenderer.invoke("billa:invoke", name, input),
  subscribe(listener) {
    const forward = (_event: electron.IpcRendererEvent, message: EventMessage) => listener(message);
    electron.ipcRenderer.on("billa:event", forward);
    return () => void electron.ipcRenderer.removeListener("billa:event", forward);
  },
};

electron.contextBridge.exposeInMainWorld("billa", api);
