// The window's security settings, after Electron's security checklist. main.ts uses exactly these;
// the tests read them from here.
import type { BrowserWindowConstructorOptions } from "electron";
import { pathToFileURL } from "node:url";

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: "BiLLa Desktop",
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    },
  };
}

/** The only page allowed to talk to the main process: our own index.html, in the top frame. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null, indexHtmlPath: string): boolean {
  if (frame === null || frame.parent !== null) return false;
  const url = new URL(frame.url);
  url.hash = "";
  url.search = "";
  return url.href === pathToFileURL(indexHtmlPath).href;
}
