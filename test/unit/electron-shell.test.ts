// Electron cannot run here, so these tests check the Electron layer without it: the functions main.ts calls for
// the window's options, the session and every web contents (called here with recording stand-ins), the menu,
// window placement, command-line files, link validation, the native shell and quitting; then main.ts itself,
// run against a recording stand-in for the `electron` module; and the compiled preload, with a stand-in
// `electron` module too (the real one needs Electron's binary).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { MenuItemConstructorOptions } from "electron";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Logger } from "../../src-main/services/logger.js";
import { APP_ROOT, RENDERER_DIR } from "../../src-main/services/app-root.js";
import { safeExternalUrl } from "../../src-main/transports/electron/external-url.js";
import { EVENT_CHANNEL, INVOKE_CHANNEL } from "../../src-main/transports/electron/ipc-channels.js";
import {
  buildMenuTemplate,
  languageSettingOf,
  MENU_LABELS,
  MENU_LOCALES,
  menuLocale,
  menuLocaleFor,
  type MenuActions,
} from "../../src-main/transports/electron/menu.js";
import { createNativeShell, type NativeShellDeps } from "../../src-main/transports/electron/native-shell.js";
import { ggufPathFromArgv, ggufPathFromFileUrl, ModelFileInbox } from "../../src-main/transports/electron/open-file.js";
import { gracefulQuit } from "../../src-main/transports/electron/quit.js";
import {
  hardenSession,
  hardenWebContents,
  isAllowedRequest,
  isTrustedSender,
  mainWindowOptions,
  WINDOW_SIZE,
  type HardenableContents,
  type HardenableSession,
} from "../../src-main/transports/electron/security.js";
import { readWindowState, restoreWindowState, windowStatePath, writeWindowState } from "../../src-main/transports/electron/window-state.js";

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = { info: (message) => lines.push(`INFO ${message}`), error: (message) => lines.push(`ERROR ${message}`) };
  return { logger, lines };
}

function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), "billa-electron-"));
}

describe("the main window's options", () => {
  const options = mainWindowOptions("/app/preload.cjs");
  const preferences = options.webPreferences!;

  it("isolates and sandboxes the renderer with no Node integration", () => {
    expect(preferences).toEqual({
      preload: "/app/preload.cjs",
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: true,
      disableBlinkFeatures: "Auxclick",
      spellcheck: false,
    });
    expect(preferences).not.toHaveProperty("enableBlinkFeatures");
  });

  it("opens hidden (shown on ready-to-show) at the default size, or where the window was last time", () => {
    expect(options).toMatchObject({ show: false, width: 1200, height: 800, minWidth: 720, minHeight: 480 });
    expect(options).not.toHaveProperty("x");
    const placed = mainWindowOptions("/app/preload.cjs", { x: 40, y: 50, width: 1000, height: 700 });
    expect(placed).toMatchObject({ x: 40, y: 50, width: 1000, height: 700, minWidth: 720, minHeight: 480 });
    expect(placed.webPreferences).toEqual(preferences);
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

/** A session that records the handlers hardenSession installs. */
function recordingSession() {
  type Handlers = {
    request: (contents: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void;
    check: (...args: unknown[]) => boolean;
    device: (details: unknown) => boolean;
    beforeRequest: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void;
  };
  const handlers: Partial<Handlers> = {};
  const session = {
    setPermissionRequestHandler: (handler: Handlers["request"]) => (handlers.request = handler),
    setPermissionCheckHandler: (handler: Handlers["check"]) => (handlers.check = handler),
    setDevicePermissionHandler: (handler: Handlers["device"]) => (handlers.device = handler),
    webRequest: { onBeforeRequest: (handler: Handlers["beforeRequest"]) => (handlers.beforeRequest = handler) },
  };
  return { session: session as unknown as HardenableSession, handlers };
}

/** Web contents that record the handlers hardenWebContents installs, and events to fire at them. */
function recordingContents() {
  const listeners = new Map<string, (event: Record<string, unknown>) => void>();
  let openHandler: ((details: { url: string }) => { action: string }) | undefined;
  const contents = {
    setWindowOpenHandler: (handler: typeof openHandler) => (openHandler = handler),
    on(name: string, listener: (event: Record<string, unknown>) => void) {
      listeners.set(name, listener);
      return contents;
    },
  };
  const fire = (name: string, fields: Record<string, unknown> = {}) => {
    let prevented = false;
    listeners.get(name)!({ ...fields, preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { contents: contents as unknown as HardenableContents, listeners, fire, openWindow: (url: string) => openHandler!({ url }) };
}

describe("the session's hardening (hardenSession, as main.ts calls it)", () => {
  const rendererDir = join(scratchDir(), "build", "renderer");
  const { logger, lines } = recordingLogger();
  const { session, handlers } = recordingSession();
  hardenSession(session, { rendererDir, logger });

  it("grants only clipboard writing (copy buttons)", () => {
    const answers: boolean[] = [];
    handlers.request!({}, "clipboard-sanitized-write", (granted) => answers.push(granted), {});
    expect(answers).toEqual([true]);
    expect(handlers.check!({}, "clipboard-sanitized-write", "file://", {})).toBe(true);
  });

  it("denies every other permission request and check, and every device", () => {
    for (const permission of ["media", "geolocation", "notifications", "openExternal", "clipboard-read", "fullscreen"]) {
      const answers: boolean[] = [];
      handlers.request!({}, permission, (granted) => answers.push(granted), {});
      expect(answers).toEqual([false]);
      expect(handlers.check!({}, permission, "file://", {})).toBe(false);
    }
    expect(handlers.device!({ deviceType: "usb" })).toBe(false);
    expect(lines.some((line) => line.includes('"media" permission'))).toBe(true);
  });

  it("cancels every network request and every file outside the renderer's folder", () => {
    const cancelled = (url: string) => {
      let response: { cancel?: boolean } | undefined;
      handlers.beforeRequest!({ url }, (answer) => (response = answer));
      return response!.cancel;
    };
    expect(cancelled(pathToFileURL(join(rendererDir, "index.html")).href)).toBe(false);
    expect(cancelled(pathToFileURL(join(rendererDir, "assets", "index-abc.js")).href)).toBe(false);
    for (const url of [
      "https://example.com/x.js",
      "http://127.0.0.1:8080/",
      "ws://127.0.0.1:9000/",
      "wss://example.com/",
      "ftp://example.com/",
      pathToFileURL("/etc/passwd").href,
      pathToFileURL(join(rendererDir, "..", "main", "secret.js")).href,
      `${pathToFileURL(rendererDir).href}/../../package.json`,
      "not a url",
    ]) {
      expect(cancelled(url), url).toBe(true);
    }
  });

  it("leaves data:, blob: and devtools: to the CSP", () => {
    expect(isAllowedRequest("data:image/png;base64,AAAA", rendererDir)).toBe(true);
    expect(isAllowedRequest("devtools://devtools/bundled/inspector.html", rendererDir)).toBe(true);
  });
});

describe("every web contents' hardening (hardenWebContents, as main.ts calls it)", () => {
  function setup() {
    const opened: string[] = [];
    const models: string[] = [];
    const { logger, lines } = recordingLogger();
    const recorded = recordingContents();
    hardenWebContents(recorded.contents, { openExternal: (url) => opened.push(url), openModelFile: (path) => models.push(path), logger });
    return { ...recorded, opened, models, lines };
  }

  it("denies every new window, sending only http(s) links to the system browser", () => {
    const { openWindow, opened } = setup();
    expect(openWindow("https://github.com/Neutralzz/BiLLa")).toEqual({ action: "deny" });
    expect(openWindow("javascript:alert(1)")).toEqual({ action: "deny" });
    expect(openWindow("file:///etc/passwd")).toEqual({ action: "deny" });
    expect(openWindow("smb://server/share")).toEqual({ action: "deny" });
    expect(opened).toEqual(["https://github.com/Neutralzz/BiLLa"]);
  });

  it("prevents every navigation away from the page; a clicked http(s) link goes to the browser", () => {
    const { fire, opened } = setup();
    expect(fire("will-navigate", { url: "https://example.com/page" })).toBe(true);
    expect(fire("will-navigate", { url: "file:///tmp/evil.html" })).toBe(true);
    expect(fire("will-navigate", { url: "billa-custom://x" })).toBe(true);
    expect(opened).toEqual(["https://example.com/page"]);
  });

  it("opens a .gguf dropped on the window (a navigation to its file) on the Models page, and nothing else dropped", () => {
    const { fire, models, opened } = setup();
    expect(fire("will-navigate", { url: pathToFileURL("/home/me/My Models/BiLLa-7B.Q4_K_M.gguf").href })).toBe(true);
    expect(models).toEqual(["/home/me/My Models/BiLLa-7B.Q4_K_M.gguf"]);
    expect(fire("will-navigate", { url: "file:///home/me/notes.txt" })).toBe(true);
    expect(fire("will-navigate", { url: "file://remote-host/share/model.gguf" })).toBe(true);
    expect(models).toHaveLength(1);
    expect(opened).toEqual([]);
  });

  it("prevents subframe navigations, redirects and <webview>", () => {
    const { fire, listeners } = setup();
    expect(fire("will-frame-navigate", { url: "https://example.com/", isMainFrame: false })).toBe(true);
    expect(fire("will-frame-navigate", { url: "https://example.com/", isMainFrame: true })).toBe(false);
    expect(fire("will-redirect", { url: "https://example.com/" })).toBe(true);
    expect(fire("will-attach-webview")).toBe(true);
    expect([...listeners.keys()].sort()).toEqual(["will-attach-webview", "will-frame-navigate", "will-navigate", "will-redirect"]);
  });
});

describe("external link validation", () => {
  it("passes absolute http and https URLs on, normalized", () => {
    expect(safeExternalUrl("https://github.com/Neutralzz/BiLLa")).toBe("https://github.com/Neutralzz/BiLLa");
    expect(safeExternalUrl("http://example.com")).toBe("http://example.com/");
    expect(safeExternalUrl("HTTPS://Example.com/a?b=c#d")).toBe("https://example.com/a?b=c#d");
  });

  it("refuses every other scheme, relative links, credentials, control characters and oversized input", () => {
    for (const url of [
      "file:///etc/passwd",
      "file://C:/Windows/System32/calc.exe",
      "javascript:alert(1)",
      "JavaScript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "mailto:someone@example.com",
      "smb://server/share",
      "ms-settings:display",
      "vscode://file/etc/passwd",
      "billa://open",
      "//example.com/path",
      "/relative/path",
      "example.com",
      "https://user:pass@example.com/",
      "https://evil.com@example.com/",
      " https://example.com/",
      "https://exa\nmple.com/",
      "java\tscript:alert(1)",
      "",
      `https://example.com/${"a".repeat(2048)}`,
    ]) {
      expect(safeExternalUrl(url), url).toBeNull();
    }
    expect(safeExternalUrl(undefined)).toBeNull();
    expect(safeExternalUrl(42)).toBeNull();
  });
});

describe("the application menu", () => {
  function actions() {
    const calls: string[] = [];
    const recorded: MenuActions = {
      openModelFile: () => calls.push("openModelFile"),
      openDataFolder: () => calls.push("openDataFolder"),
      showLogs: () => calls.push("showLogs"),
    };
    return { calls, recorded };
  }

  function items(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
    return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? items(item.submenu) : [])]);
  }

  const find = (template: MenuItemConstructorOptions[], id: string) => items(template).find((item) => item.id === id);

  for (const locale of MENU_LOCALES) {
    for (const platform of ["linux", "win32", "darwin"] as const) {
      it(`has the app's items, wired to their actions (${locale}, ${platform})`, () => {
        const { calls, recorded } = actions();
        const template = buildMenuTemplate({ locale, platform, developer: false, actions: recorded });
        const labels = MENU_LABELS[locale];

        for (const [id, label, action] of [
          ["open-model-file", labels.openModelFile, "openModelFile"],
          ["open-data-folder", labels.openDataFolder, "openDataFolder"],
          ["show-logs", labels.showLogs, "showLogs"],
        ] as const) {
          const item = find(template, id)!;
          expect(item.label).toBe(label);
          (item.click as () => void)();
          expect(calls.at(-1)).toBe(action);
        }
        expect(find(template, "quit")).toMatchObject({ role: "quit", label: labels.quit });
        expect(find(template, "copy")).toMatchObject({ role: "copy", label: labels.copy });
        expect(find(template, "paste")).toMatchObject({ role: "paste", label: labels.paste });
        // Every item a person sees has a label in this language (separators aside).
        for (const item of items(template)) if (item.type !== "separator") expect(item.label, item.id).toBeTruthy();
      });
    }
  }

  it("puts Quit in the app menu on macOS and in File elsewhere", () => {
    const { recorded } = actions();
    const mac = buildMenuTemplate({ locale: "en", platform: "darwin", developer: false, actions: recorded });
    const linux = buildMenuTemplate({ locale: "en", platform: "linux", developer: false, actions: recorded });
    expect(mac[0]!.id).toBe("app");
    expect((mac[0]!.submenu as MenuItemConstructorOptions[]).some((item) => item.role === "quit")).toBe(true);
    expect((mac[1]!.submenu as MenuItemConstructorOptions[]).some((item) => item.role === "quit")).toBe(false);
    expect(linux[0]!.id).toBe("file");
    expect((linux[0]!.submenu as MenuItemConstructorOptions[]).some((item) => item.role === "quit")).toBe(true);
  });

  it("offers reload and developer tools only in development", () => {
    const { recorded } = actions();
    const packaged = buildMenuTemplate({ locale: "en", platform: "linux", developer: false, actions: recorded });
    const development = buildMenuTemplate({ locale: "en", platform: "linux", developer: true, actions: recorded });
    expect(find(packaged, "toggle-dev-tools")).toBeUndefined();
    expect(find(packaged, "reload")).toBeUndefined();
    expect(find(development, "toggle-dev-tools")).toMatchObject({ role: "toggleDevTools" });
  });

  it("follows the app's language setting, and the system's when the setting is 'system' or missing", () => {
    expect(menuLocaleFor("en", ["zh-CN"])).toBe("en");
    expect(menuLocaleFor("zh-CN", ["en-US"])).toBe("zh-CN");
    expect(menuLocaleFor("system", ["zh-CN"])).toBe("zh-CN");
    expect(menuLocaleFor(undefined, ["en-US"])).toBe("en");
    expect(menuLocaleFor("fr-FR", ["en-US"])).toBe("en");
    expect(languageSettingOf({ language: "en", theme: "dark" })).toBe("en");
    expect(languageSettingOf(null)).toBeUndefined();
    expect(languageSettingOf("en")).toBeUndefined();
  });

  it("is in Chinese for any zh-* language and English otherwise, in full", () => {
    expect(menuLocale(["zh-CN"])).toBe("zh-CN");
    expect(menuLocale(["en-US", "zh-Hans-CN"])).toBe("zh-CN");
    expect(menuLocale(["zh-TW"])).toBe("zh-CN");
    expect(menuLocale(["en-GB", "fr-FR"])).toBe("en");
    expect(menuLocale([])).toBe("en");
    expect(Object.keys(MENU_LABELS["zh-CN"]).sort()).toEqual(Object.keys(MENU_LABELS.en).sort());
    expect(MENU_LABELS["zh-CN"].openDataFolder).toBe("打开数据文件夹");
    expect(MENU_LABELS.en.showLogs).toBe("Show Logs");
  });
});

describe("model files on the command line", () => {
  const cwd = "/home/user/downloads";

  it("finds the first .gguf, resolved against the launching process's folder", () => {
    expect(ggufPathFromArgv(["/opt/BiLLa Desktop/billa-desktop", "model.gguf"], cwd)).toBe("/home/user/downloads/model.gguf");
    expect(ggufPathFromArgv(["/usr/bin/electron", ".", "/models/BiLLa-7B.Q4_K_M.GGUF", "/models/other.gguf"], cwd)).toBe(
      "/models/BiLLa-7B.Q4_K_M.GGUF",
    );
    expect(ggufPathFromArgv(["billa", "--original-process-start-time=123", "sub/dir/m.gguf"], cwd)).toBe("/home/user/downloads/sub/dir/m.gguf");
  });

  it("accepts file:// URLs, as Linux desktop files pass them", () => {
    expect(ggufPathFromArgv(["billa", "file:///home/user/My%20Models/m.gguf"], cwd)).toBe("/home/user/My Models/m.gguf");
  });

  it("ignores flags, our flags' values, the executable and anything not .gguf", () => {
    expect(ggufPathFromArgv(["/path/to/app.gguf"], cwd)).toBeNull();
    expect(ggufPathFromArgv(["billa", "--data-dir", "weird.gguf"], cwd)).toBeNull();
    expect(ggufPathFromArgv(["billa", "--data-dir=weird.gguf", "--flag.gguf"], cwd)).toBeNull();
    expect(ggufPathFromArgv(["billa", "model.bin", "notes.gguf.txt", "."], cwd)).toBeNull();
    expect(ggufPathFromArgv(["billa", "file://remote-host/share/m.gguf"], cwd)).toBeNull();
  });

  it("reads .gguf paths out of local file:// URLs only", () => {
    expect(ggufPathFromFileUrl("file:///models/m.GGUF")).toBe("/models/m.GGUF");
    expect(ggufPathFromFileUrl("file:///models/m.bin")).toBeNull();
    expect(ggufPathFromFileUrl("file://host/share/m.gguf")).toBeNull();
    expect(ggufPathFromFileUrl("https://example.com/m.gguf")).toBeNull();
  });

  it("holds a file until the window can show it, then passes each one on", () => {
    const delivered: string[] = [];
    const inbox = new ModelFileInbox((path) => delivered.push(path));
    inbox.receive("/a.gguf");
    inbox.receive("/b.gguf");
    expect(delivered).toEqual([]);
    inbox.open();
    expect(delivered).toEqual(["/b.gguf"]);
    inbox.receive("/c.gguf");
    expect(delivered).toEqual(["/b.gguf", "/c.gguf"]);
    inbox.close();
    inbox.receive("/d.gguf");
    expect(delivered).toHaveLength(2);
    inbox.open();
    expect(delivered.at(-1)).toBe("/d.gguf");
  });
});

describe("the window's remembered size and position", () => {
  const laptop = { x: 0, y: 0, width: 1440, height: 875 };
  const external = { x: 1440, y: -200, width: 2560, height: 1415 };

  it("restores a placement that is on a display", () => {
    expect(restoreWindowState({ x: 100, y: 80, width: 1000, height: 700, maximized: false }, [laptop], WINDOW_SIZE)).toEqual({
      x: 100,
      y: 80,
      width: 1000,
      height: 700,
      maximized: false,
    });
    expect(restoreWindowState({ x: 2000, y: 0, width: 1200, height: 800, maximized: true }, [laptop, external], WINDOW_SIZE)).toMatchObject({
      x: 2000,
      maximized: true,
    });
    expect(restoreWindowState({ x: 100, y: 80, width: 1000, height: 700 }, [laptop], WINDOW_SIZE)?.maximized).toBe(false);
  });

  it("forgets a window left on a display that is gone, or with its title bar out of reach", () => {
    expect(restoreWindowState({ x: 2000, y: 0, width: 1200, height: 800 }, [laptop], WINDOW_SIZE)).toBeNull();
    expect(restoreWindowState({ x: -5000, y: -5000, width: 1200, height: 800 }, [laptop], WINDOW_SIZE)).toBeNull();
    // Only a sliver of the title bar on screen: not something a person can grab.
    expect(restoreWindowState({ x: 1400, y: 100, width: 1200, height: 800 }, [laptop], WINDOW_SIZE)).toBeNull();
    // Title bar above the top of the screen, window body visible: still unreachable.
    expect(restoreWindowState({ x: 100, y: -500, width: 1200, height: 800 }, [laptop], WINDOW_SIZE)).toBeNull();
    expect(restoreWindowState({ x: 100, y: 80, width: 1200, height: 800 }, [], WINDOW_SIZE)).toBeNull();
  });

  it("pulls a window that hangs over an edge back in, and shrinks one bigger than its display", () => {
    expect(restoreWindowState({ x: 1000, y: 500, width: 1200, height: 800 }, [laptop], WINDOW_SIZE)).toEqual({
      x: 240,
      y: 75,
      width: 1200,
      height: 800,
      maximized: false,
    });
    expect(restoreWindowState({ x: 0, y: 0, width: 5000, height: 3000 }, [laptop], WINDOW_SIZE)).toEqual({
      x: 0,
      y: 0,
      width: 1440,
      height: 875,
      maximized: false,
    });
  });

  it("ignores garbage", () => {
    for (const saved of [
      undefined,
      null,
      "x",
      42,
      [],
      {},
      { x: 0, y: 0, width: 1000 },
      { x: "0", y: 0, width: 1000, height: 700 },
      { x: 0.5, y: 0, width: 1000, height: 700 },
      { x: Number.NaN, y: 0, width: 1000, height: 700 },
      { x: 0, y: 0, width: Number.POSITIVE_INFINITY, height: 700 },
      { x: 0, y: 0, width: 1e9, height: 700 },
      { x: 0, y: 0, width: -1000, height: 700 },
      { x: 0, y: 0, width: 100, height: 50 },
      { x: 0, y: 0, width: 1000, height: 700, maximized: "yes" },
    ]) {
      expect(restoreWindowState(saved, [laptop], WINDOW_SIZE), JSON.stringify(saved)).toBeNull();
    }
  });

  it("round-trips through its file in the data directory; an unreadable file reads as nothing", () => {
    const dataDir = scratchDir();
    const file = windowStatePath(dataDir);
    expect(file).toBe(join(dataDir, "window-state.json"));
    expect(readWindowState(file)).toBeUndefined();
    writeWindowState(file, { x: 10, y: 20, width: 900, height: 600, maximized: true });
    expect(restoreWindowState(readWindowState(file), [laptop], WINDOW_SIZE)).toEqual({ x: 10, y: 20, width: 900, height: 600, maximized: true });
    writeFileSync(file, '{"x": 10, "y": ');
    expect(readWindowState(file)).toBeUndefined();
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("the native shell (ShellActions for Electron)", () => {
  function setup(windowOpen = true) {
    const calls: unknown[][] = [];
    const parent = { isDestroyed: () => false, id: "main-window" };
    const dialogAnswer = { canceled: false, filePaths: ["/picked/file.gguf"], filePath: "/picked/out.gguf" };
    const deps = {
      dialog: {
        showOpenDialog: async (...args: unknown[]) => (calls.push(["showOpenDialog", ...args]), dialogAnswer),
        showSaveDialog: async (...args: unknown[]) => (calls.push(["showSaveDialog", ...args]), dialogAnswer),
      },
      shell: {
        openPath: async (path: string) => (calls.push(["openPath", path]), ""),
        showItemInFolder: (path: string) => void calls.push(["showItemInFolder", path]),
        openExternal: async (url: string) => void calls.push(["openExternal", url]),
      },
      window: () => (windowOpen ? parent : null),
      logger: recordingLogger().logger,
    } as unknown as NativeShellDeps;
    return { shell: createNativeShell(deps), calls, parent, dialogAnswer };
  }

  it("shows file, folder and save dialogs attached to the main window", async () => {
    const { shell, calls, parent } = setup();
    const filters = [{ name: "GGUF", extensions: ["gguf"] }];
    expect(await shell.pickFile({ title: "Pick a model", filters })).toEqual({ path: "/picked/file.gguf" });
    expect(calls[0]).toEqual(["showOpenDialog", parent, { properties: ["openFile"], filters, title: "Pick a model" }]);
    expect(await shell.pickFolder({})).toEqual({ path: "/picked/file.gguf" });
    expect(calls[1]).toEqual(["showOpenDialog", parent, { properties: ["openDirectory", "createDirectory"] }]);
    expect(await shell.pickSaveFile({ defaultName: "../../etc/BiLLa-7B.gguf", filters })).toEqual({ path: "/picked/out.gguf" });
    expect(calls[2]).toEqual([
      "showSaveDialog",
      parent,
      { defaultPath: "BiLLa-7B.gguf", filters, properties: ["createDirectory", "showOverwriteConfirmation"] },
    ]);
  });

  it("answers null when the dialog is cancelled, and works without a window", async () => {
    const { shell, calls, dialogAnswer } = setup(false);
    dialogAnswer.canceled = true;
    expect(await shell.pickFile({ filters: [] })).toEqual({ path: null });
    expect(await shell.pickSaveFile({ defaultName: "x.gguf", filters: [] })).toEqual({ path: null });
    expect(calls[0]).toEqual(["showOpenDialog", { properties: ["openFile"], filters: [] }]);
  });

  it("opens folders in the file manager and shows files selected in theirs", async () => {
    const { shell, calls } = setup();
    const dataDir = scratchDir();
    const logFile = join(dataDir, "logs", "billa.log");
    expect(await shell.openPath(dataDir)).toEqual({ opened: true });
    expect(calls.at(-1)).toEqual(["openPath", dataDir]);
    mkdirSync(join(dataDir, "logs"));
    // No log written yet: its folder.
    expect(await shell.openPath(logFile)).toEqual({ opened: true });
    expect(calls.at(-1)).toEqual(["openPath", join(dataDir, "logs")]);
    writeFileSync(logFile, "log\n");
    expect(await shell.openPath(logFile)).toEqual({ opened: true });
    expect(calls.at(-1)).toEqual(["showItemInFolder", logFile]);
    expect(await shell.openPath(join(dataDir, "missing", "nothing.log"))).toEqual({ opened: false });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("opens only validated http(s) links in the browser, whatever reaches it", async () => {
    const { shell, calls } = setup();
    expect(await shell.openExternal("https://github.com/Neutralzz/BiLLa")).toEqual({ opened: true });
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "smb://host/share", "vscode://x"]) {
      expect(await shell.openExternal(url)).toEqual({ opened: false });
    }
    expect(calls).toEqual([["openExternal", "https://github.com/Neutralzz/BiLLa"]]);
  });
});

describe("quitting", () => {
  afterEach(() => void vi.useRealTimers());

  function quitEvent() {
    const event = { prevented: 0, preventDefault: () => void event.prevented++ };
    return event;
  }

  it("holds every quit back until the services are disposed, then exits once", async () => {
    let finishDispose!: () => void;
    const dispose = vi.fn(() => new Promise<void>((resolve) => (finishDispose = resolve)));
    const exit = vi.fn();
    const onBeforeQuit = gracefulQuit({ dispose, exit, logger: recordingLogger().logger });
    const first = quitEvent();
    const second = quitEvent();
    onBeforeQuit(first);
    onBeforeQuit(second);
    expect([first.prevented, second.prevented]).toEqual([1, 1]);
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    finishDispose();
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it("exits with an error when disposing fails or hangs", async () => {
    const failing = vi.fn();
    const { logger, lines } = recordingLogger();
    gracefulQuit({ dispose: () => Promise.reject(new Error("disk full")), exit: failing, logger })(quitEvent());
    await vi.waitFor(() => expect(failing).toHaveBeenCalledWith(1));
    expect(lines.some((line) => line.startsWith("ERROR Shutting the services down failed"))).toBe(true);

    vi.useFakeTimers();
    const hanging = vi.fn();
    gracefulQuit({ dispose: () => new Promise(() => {}), exit: hanging, logger, timeoutMs: 5000 })(quitEvent());
    vi.advanceTimersByTime(4999);
    expect(hanging).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(hanging).toHaveBeenCalledWith(1);
  });
});

// main.ts itself, against a stand-in `electron` that records what main.ts asks of it.
const fakeElectron = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown;
  const emitter = () => {
    const listeners = new Map<string, Listener[]>();
    return {
      listeners,
      on(name: string, listener: Listener) {
        listeners.set(name, [...(listeners.get(name) ?? []), listener]);
        return this;
      },
      once(name: string, listener: Listener) {
        return this.on(name, listener);
      },
      emit(name: string, ...args: unknown[]) {
        for (const listener of listeners.get(name) ?? []) listener(...args);
      },
    };
  };
  const state = {
    gotLock: true,
    windows: [] as { options: unknown; events: ReturnType<typeof emitter>; contents: ReturnType<typeof emitter>; sent: unknown[][]; shown: number; loaded: string[] }[],
    app: emitter(),
    calls: [] as unknown[][],
    ipcHandlers: new Map<string, Listener>(),
    menuTemplate: undefined as unknown,
    session: {
      handlers: {} as Record<string, Listener>,
    },
    reset() {
      this.gotLock = true;
      this.windows = [];
      this.app = emitter();
      this.calls = [];
      this.ipcHandlers = new Map();
      this.menuTemplate = undefined;
      this.session.handlers = {};
    },
  };
  class BrowserWindow {
    record: (typeof state.windows)[number];
    webContents: Record<string, unknown>;
    constructor(options: unknown) {
      const contents = emitter();
      this.record = { options, events: emitter(), contents, sent: [], shown: 0, loaded: [] };
      state.windows.push(this.record);
      this.webContents = {
        on: (name: string, listener: Listener) => contents.on(name, listener),
        send: (...args: unknown[]) => this.record.sent.push(args),
        isDestroyed: () => false,
      };
    }
    on(name: string, listener: Listener) {
      this.record.events.on(name, listener);
      return this;
    }
    once(name: string, listener: Listener) {
      return this.on(name, listener);
    }
    async loadFile(path: string) {
      this.record.loaded.push(path);
    }
    show() {
      this.record.shown++;
    }
    focus() {}
    isMinimized() {
      return false;
    }
    restore() {}
    maximize() {}
    isMaximized() {
      return false;
    }
    isDestroyed() {
      return false;
    }
    getNormalBounds() {
      return { x: 30, y: 40, width: 1100, height: 760 };
    }
  }
  const record =
    (name: string, result?: unknown) =>
    (...args: unknown[]) => {
      state.calls.push([name, ...args]);
      return result;
    };
  const electron = {
    app: {
      setPath: (...args: unknown[]) => void state.calls.push(["app.setPath", ...args]),
      enableSandbox: () => void state.calls.push(["app.enableSandbox"]),
      setAppUserModelId: record("app.setAppUserModelId"),
      requestSingleInstanceLock: () => state.gotLock,
      quit: () => void state.calls.push(["app.quit"]),
      exit: (code: number) => void state.calls.push(["app.exit", code]),
      getVersion: () => "0.1.0",
      getPreferredSystemLanguages: () => ["zh-CN", "en-US"],
      isPackaged: false,
      isReady: () => true,
      whenReady: async () => {},
      on: (name: string, listener: Listener) => state.app.on(name, listener),
    },
    BrowserWindow,
    dialog: { showOpenDialog: record("dialog.showOpenDialog"), showSaveDialog: record("dialog.showSaveDialog") },
    ipcMain: { handle: (channel: string, handler: Listener) => void state.ipcHandlers.set(channel, handler) },
    Menu: {
      buildFromTemplate: (template: unknown) => template,
      setApplicationMenu: (menu: unknown) => void (state.menuTemplate = menu),
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Listener) => void (state.session.handlers["request"] = handler),
        setPermissionCheckHandler: (handler: Listener) => void (state.session.handlers["check"] = handler),
        setDevicePermissionHandler: (handler: Listener) => void (state.session.handlers["device"] = handler),
        webRequest: { onBeforeRequest: (handler: Listener) => void (state.session.handlers["beforeRequest"] = handler) },
      },
    },
    shell: {
      openPath: async (path: string) => (state.calls.push(["shell.openPath", path]), ""),
      showItemInFolder: record("shell.showItemInFolder"),
      openExternal: async (url: string) => void state.calls.push(["shell.openExternal", url]),
    },
  };
  return { state, electron };
});

vi.mock("electron", () => ({ ...fakeElectron.electron, default: fakeElectron.electron }));

describe("main.ts, run against a recording stand-in for electron", () => {
  const { state } = fakeElectron;
  const dataDir = scratchDir();
  const originalArgv = process.argv;
  const originalDataDir = process.env["BILLA_DATA_DIR"];
  const signalListeners = () => ({ SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") });
  let before: ReturnType<typeof signalListeners>;

  beforeAll(async () => {
    before = signalListeners();
    state.reset();
    process.env["BILLA_DATA_DIR"] = dataDir;
    process.argv = ["/opt/BiLLa Desktop/billa-desktop", "launch-model.gguf"];
    vi.resetModules();
    await import("../../src-main/transports/electron/main.js");
  });

  afterAll(() => {
    process.argv = originalArgv;
    if (originalDataDir === undefined) delete process.env["BILLA_DATA_DIR"];
    else process.env["BILLA_DATA_DIR"] = originalDataDir;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      for (const listener of process.listeners(signal)) if (!before[signal].includes(listener)) process.off(signal, listener);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("uses the data directory for Electron's own files, and sandboxes every renderer", () => {
    expect(state.calls).toContainEqual(["app.setPath", "userData", dataDir]);
    expect(state.calls).toContainEqual(["app.enableSandbox"]);
  });

  it("creates one window with exactly mainWindowOptions(), loading our index.html", () => {
    expect(state.windows).toHaveLength(1);
    const window = state.windows[0]!;
    const options = window.options as ReturnType<typeof mainWindowOptions>;
    expect(options).toEqual(mainWindowOptions(options.webPreferences!.preload!, null));
    expect(options.webPreferences!.preload).toMatch(/preload\.cjs$/);
    expect(window.loaded).toEqual([join(RENDERER_DIR, "index.html")]);
    window.events.emit("ready-to-show");
    expect(window.shown).toBe(1);
  });

  it("hardens the default session with hardenSession()", () => {
    expect(Object.keys(state.session.handlers).sort()).toEqual(["beforeRequest", "check", "device", "request"]);
    expect(state.session.handlers["check"]!({}, "media", "file://", {})).toBe(false);
    let cancel: unknown;
    state.session.handlers["beforeRequest"]!({ url: "https://example.com/" }, (response: { cancel: boolean }) => (cancel = response.cancel));
    expect(cancel).toBe(true);
  });

  it("hardens every web contents created", () => {
    const recorded = recordingContents();
    state.app.emit("web-contents-created", {}, recorded.contents);
    expect(recorded.openWindow("https://example.com/")).toEqual({ action: "deny" });
    expect(recorded.fire("will-navigate", { url: "https://example.com/" })).toBe(true);
    expect(recorded.fire("will-attach-webview")).toBe(true);
  });

  it("answers IPC requests only from our own page's top frame", async () => {
    const handle = state.ipcHandlers.get(INVOKE_CHANNEL)!;
    const ours = pathToFileURL(join(RENDERER_DIR, "index.html")).href;
    const answer = (await handle({ senderFrame: { url: ours, parent: null } }, "app.info", {})) as { ok: boolean; value: unknown };
    expect(answer).toEqual({ ok: true, value: expect.objectContaining({ dataDir, transport: "electron" }) });
    const refused = (await handle({ senderFrame: { url: "file:///tmp/evil.html", parent: null } }, "app.info", {})) as { ok: boolean };
    expect(refused).toMatchObject({ ok: false, error: { code: "unknown_request" } });
  });

  it("sets the menu in the system's language, wired to the data folder and logs", async () => {
    const template = state.menuTemplate as MenuItemConstructorOptions[];
    const file = template.find((item) => item.id === "file")!;
    expect(file.label).toBe("文件");
    const submenu = file.submenu as MenuItemConstructorOptions[];
    (submenu.find((item) => item.id === "open-data-folder")!.click as () => void)();
    await vi.waitFor(() => expect(state.calls).toContainEqual(["shell.openPath", dataDir]));
    (submenu.find((item) => item.id === "show-logs")!.click as () => void)();
    await vi.waitFor(() => expect(state.calls).toContainEqual(["shell.showItemInFolder", join(dataDir, "logs", "billa.log")]));
  });

  it("switches the menu's language when the app's language setting changes, and only then", async () => {
    const handle = state.ipcHandlers.get(INVOKE_CHANNEL)!;
    const ours = pathToFileURL(join(RENDERER_DIR, "index.html")).href;
    const update = (changes: unknown) => handle({ senderFrame: { url: ours, parent: null } }, "settings.update", changes);
    const fileMenuLabel = () => (state.menuTemplate as MenuItemConstructorOptions[]).find((item) => item.id === "file")!.label;
    // The system's languages are zh-CN first, so the menu starts in Chinese (checked above).
    expect(fileMenuLabel()).toBe("文件");
    expect(await update({ language: "en" })).toMatchObject({ ok: true, value: { language: "en" } });
    expect(fileMenuLabel()).toBe("File");
    // A refused update changes nothing.
    expect(await update({ language: "fr" })).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect(fileMenuLabel()).toBe("File");
    // Back to following the system.
    expect(await update({ language: "system" })).toMatchObject({ ok: true, value: { language: "system" } });
    expect(fileMenuLabel()).toBe("文件");
  });

  it("sends the .gguf it was launched with once the page has loaded, then dropped, second-launch and Finder ones", () => {
    const window = state.windows[0]!;
    expect(window.sent).toEqual([]);
    window.contents.emit("did-finish-load");
    expect(window.sent).toEqual([[EVENT_CHANNEL, { name: "shell.openModelFile", payload: { path: join(process.cwd(), "launch-model.gguf") } }]]);
    const contents = recordingContents();
    state.app.emit("web-contents-created", {}, contents.contents);
    expect(contents.fire("will-navigate", { url: "file:///home/user/dropped.gguf" })).toBe(true);
    expect(window.sent.at(-1)).toEqual([EVENT_CHANNEL, { name: "shell.openModelFile", payload: { path: "/home/user/dropped.gguf" } }]);
    state.app.emit("second-instance", {}, ["/opt/BiLLa Desktop/billa-desktop", "second.gguf"], "/home/user");
    expect(window.sent.at(-1)).toEqual([EVENT_CHANNEL, { name: "shell.openModelFile", payload: { path: "/home/user/second.gguf" } }]);
    expect(window.shown).toBeGreaterThan(1);
    const event = { prevented: false, preventDefault: () => void (event.prevented = true) };
    state.app.emit("open-file", event, "/Users/me/finder.gguf");
    expect(event.prevented).toBe(true);
    expect(window.sent.at(-1)).toEqual([EVENT_CHANNEL, { name: "shell.openModelFile", payload: { path: "/Users/me/finder.gguf" } }]);
    expect(state.windows).toHaveLength(1);
  });

  it("saves the window's placement and disposes the services before quitting", async () => {
    const event = { prevented: false, preventDefault: () => void (event.prevented = true) };
    state.app.emit("before-quit", event);
    expect(event.prevented).toBe(true);
    expect(JSON.parse(readFileSync(join(dataDir, "window-state.json"), "utf8"))).toEqual({ x: 30, y: 40, width: 1100, height: 760, maximized: false });
    await vi.waitFor(() => expect(state.calls).toContainEqual(["app.exit", 0]));
  });

  it("leaves at once, before opening the database, when another instance holds the lock", async () => {
    const otherDataDir = scratchDir();
    state.reset();
    state.gotLock = false;
    process.env["BILLA_DATA_DIR"] = otherDataDir;
    vi.resetModules();
    await import("../../src-main/transports/electron/main.js");
    expect(state.calls).toContainEqual(["app.quit"]);
    expect(state.windows).toEqual([]);
    expect(state.ipcHandlers.size).toBe(0);
    expect(() => readFileSync(join(otherDataDir, "billa.sqlite"))).toThrow();
    rmSync(otherDataDir, { recursive: true, force: true });
  });
});

describe("the compiled preload", () => {
  function loadPreload() {
    const exposed = new Map<string, unknown>();
    const invoked: unknown[][] = [];
    const handlers = new Map<string, (...args: unknown[]) => void>();
    const fakePreloadElectron = {
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
    Module._load = (request, ...rest) => (request === "electron" ? fakePreloadElectron : originalLoad(request, ...rest));
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
