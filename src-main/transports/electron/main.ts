// The Electron main process: a thin shell around the same services web mode and the CLI use.
import { app, BrowserWindow, ipcMain, session } from "electron";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Envelope } from "../../contract/errors.js";
import { RENDERER_DIR } from "../../services/app-root.js";
import { createServices } from "../../services/create-services.js";
import { resolveDataDir } from "../../services/data-dir.js";
import { EVENT_CHANNEL, INVOKE_CHANNEL } from "./ipc-channels.js";
import { isTrustedSender, mainWindowOptions } from "./security.js";

const dataDir = resolveDataDir(process.argv);
app.setPath("userData", dataDir);
const services = createServices({ dataDir, transport: "electron" });
const indexHtml = join(RENDERER_DIR, "index.html");
const preload = join(fileURLToPath(new URL(".", import.meta.url)), "preload.cjs");

const untrusted: Envelope<never> = {
  ok: false,
  error: { code: "unknown_request", message: "Requests are only accepted from BiLLa Desktop's own window." },
};

ipcMain.handle(INVOKE_CHANNEL, (event, name: unknown, input: unknown) =>
  isTrustedSender(event.senderFrame, indexHtml) ? services.api.invoke(String(name), input) : untrusted,
);

app.on("web-contents-created", (_event, contents) => {
  contents.setWindowOpenHandler(() => ({ action: "deny" }));
  contents.on("will-navigate", (navigation) => navigation.preventDefault());
  contents.on("will-attach-webview", (attach) => attach.preventDefault());
});

async function openMainWindow(): Promise<void> {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const window = new BrowserWindow(mainWindowOptions(preload));
  const unsubscribe = services.api.subscribe((message) => window.webContents.send(EVENT_CHANNEL, message));
  window.on("closed", unsubscribe);
  window.once("ready-to-show", () => window.show());
  await window.loadFile(indexHtml);
}

app.on("window-all-closed", () => app.quit());
app.on("will-quit", (event) => {
  event.preventDefault();
  void services.dispose().finally(() => app.exit(0));
});

await app.whenReady();
await openMainWindow();
