// The window's, the session's and every web contents' security settings, after Electron's security
// checklist (https://www.electronjs.org/docs/latest/tutorial/security). main.ts calls exactly these
// functions; the tests call the same functions with recording stand-ins and read the settings back.
import type { BrowserWindowConstructorOptions, Session, WebContents } from "electron";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "../../services/logger.js";
import { safeExternalUrl } from "./external-url.js";
import { ggufPathFromFileUrl } from "./open-file.js";
import type { Rect } from "./window-state.js";

export const WINDOW_SIZE = { width: 1200, height: 800, minWidth: 720, minHeight: 480 } as const;

/** `placement`: where the window was last time (validated by window-state.ts); centered at the default size otherwise. */
export function mainWindowOptions(preloadPath: string, placement: Rect | null = null): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_SIZE,
    ...placement,
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
      // A file dropped on the window starts a navigation to it, which hardenWebContents always cancels: a
      // dropped .gguf is opened on the Models page instead (the renderer leaves drops to the shell).
      navigateOnDragDrop: true,
      // Middle-click on a link would open a new window; window.open is denied anyway, this stops the event itself.
      disableBlinkFeatures: "Auxclick",
      // Chromium's spellchecker downloads its dictionaries from Google's servers: the app stays offline.
      spellcheck: false,
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

/** Schemes the window may never fetch from: the renderer is local files only. */
const NETWORK_SCHEMES = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);

/**
 * Whether the window may load `url`: nothing from the network, and files only from inside the renderer's own
 * folder (the CSP's 'self' would allow any file:// URL). Other schemes (data:, blob:, devtools:) are left to
 * the CSP, which allows only data: images and fonts.
 */
export function isAllowedRequest(url: string, rendererDir: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (NETWORK_SCHEMES.has(parsed.protocol)) return false;
  if (parsed.protocol !== "file:") return true;
  let path: string;
  try {
    path = fileURLToPath(parsed);
  } catch {
    return false;
  }
  const inside = relative(rendererDir, path);
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
}

export type HardenableSession = Pick<Session, "setPermissionRequestHandler" | "setPermissionCheckHandler" | "setDevicePermissionHandler"> & {
  webRequest: Pick<Session["webRequest"], "onBeforeRequest">;
};

/** The one permission the page gets: writing plain text to the clipboard (the code blocks' copy buttons). */
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(["clipboard-sanitized-write"]);

/** Denies every other permission (camera, notifications, USB, HID…) and every request outside the app's own files. */
export function hardenSession(session: HardenableSession, { rendererDir, logger }: { rendererDir: string; logger: Logger }): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    const granted = GRANTED_PERMISSIONS.has(permission);
    if (!granted) logger.info(`Denied the window's request for the "${permission}" permission.`);
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission) => GRANTED_PERMISSIONS.has(permission));
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url, rendererDir);
    if (!allowed) logger.info(`Blocked a request from the window to ${details.url.slice(0, 200)}`);
    callback({ cancel: !allowed });
  });
}

export type HardenableContents = Pick<WebContents, "setWindowOpenHandler" | "on">;

export interface ContentsDeps {
  /** Opens a link in the system browser; receives only URLs that passed safeExternalUrl. */
  openExternal(url: string): void;
  /** Shows a .gguf dropped on the window on the Models page. */
  openModelFile(path: string): void;
  logger: Logger;
}

/**
 * For every web contents the app creates: no new windows, no navigation away from the page, no <webview>.
 * A link the user clicks (target=_blank or a plain href) opens in the system browser if it is http(s); a .gguf
 * dropped on the window (a navigation to its file:// URL) is handed to the Models page.
 */
export function hardenWebContents(contents: HardenableContents, { openExternal, openModelFile, logger }: ContentsDeps): void {
  const toBrowser = (url: string) => {
    const safe = safeExternalUrl(url);
    if (safe !== null) openExternal(safe);
    else logger.info(`Blocked opening ${url.slice(0, 200)}`);
  };
  contents.setWindowOpenHandler(({ url }) => {
    toBrowser(url);
    return { action: "deny" };
  });
  contents.on("will-navigate", (event) => {
    event.preventDefault();
    const dropped = event.url.startsWith("file:") ? ggufPathFromFileUrl(event.url) : null;
    if (dropped !== null) openModelFile(dropped);
    else toBrowser(event.url);
  });
  contents.on("will-frame-navigate", (event) => {
    // The main frame's navigations are handled (and refused) by will-navigate; subframes have nowhere to go.
    if (!event.isMainFrame) event.preventDefault();
  });
  contents.on("will-redirect", (event) => event.preventDefault());
  contents.on("will-attach-webview", (event) => event.preventDefault());
}
