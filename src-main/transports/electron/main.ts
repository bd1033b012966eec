// The Electron main process: a thin shell around the same services web mode and the CLI use. What can be
// checked without Electron (security settings, menu, window placement, argv, links, quitting) lives in the
// files beside this one and is tested there; this file only wires them to Electron.
import { app, BrowserWindow, dialog, ipcMain, Menu, screen, session, shell } from "electron";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Envelope } from "../../contract/errors.js";
import { RENDERER_DIR } from "../../services/app-root.js";
import { createServices } from "../../services/create-services.js";
import { dataPaths, resolveDataDir } from "../../services/data-dir.js";
import { createFileLogger } from "../../services/logger.js";
import { startOpenAiServer } from "../openai-api/openai-server.js";
import { APP_ID } from "./app-identity.js";
import { EVENT_CHANNEL, INVOKE_CHANNEL } from "./ipc-channels.js";
import { buildMenuTemplate, languageSettingOf, menuLocaleFor } from "./menu.js";
import { createNativeShell } from "./native-shell.js";
import { ggufPathFromArgv, isGgufPath, ModelFileInbox } from "./open-file.js";
import { gracefulQuit } from "./quit.js";
import { hardenSession, hardenWebContents, isTrustedSender, mainWindowOptions, WINDOW_SIZE } from "./security.js";
import { readWindowState, restoreWindowState, windowStatePath, writeWindowState } from "./window-state.js";

const dataDir = resolveDataDir(process.argv);
app.setPath("userData", dataDir);
app.enableSandbox();
if (process.platform === "win32") app.setAppUserModelId(APP_ID);

// One instance per data directory. A second launch hands its command line (and any .gguf on it) to the first
// through `second-instance`, and quits before it opens the database.
if (app.requestSingleInstanceLock()) {
  await run();
} else {
  app.quit();
}

async function run(): Promise<void> {
  const paths = dataPaths(dataDir);
  const logger = createFileLogger(paths.logFile);
  logger.info(`BiLLa Desktop ${app.getVersion()} starting (Electron ${process.versions.electron}, ${process.platform}-${process.arch}).`);
  const indexHtml = join(RENDERER_DIR, "index.html");
  const preload = join(fileURLToPath(new URL(".", import.meta.url)), "preload.cjs");
  const stateFile = windowStatePath(dataDir);
  let mainWindow: BrowserWindow | null = null;

  const nativeShell = createNativeShell({ dialog, shell, window: () => mainWindow, logger });
  // The OpenAI-compatible API server starts with the app when the user switched it on in Settings.
  const services = createServices({ dataDir, transport: "electron", logger, shell: nativeShell, listenApi: startOpenAiServer });
  void services.apiServer.startFromSettings();
  const inbox = new ModelFileInbox((path) => {
    logger.info(`Opening model file ${path}`);
    services.openModelFile(path);
  });

  // Requests only from our own page's top frame; events to whichever window is open.
  const untrusted: Envelope<never> = {
    ok: false,
    error: { code: "unknown_request", message: "Requests are only accepted from BiLLa Desktop's own window." },
  };
  ipcMain.handle(INVOKE_CHANNEL, async (event, name: unknown, input: unknown) => {
    if (!isTrustedSender(event.senderFrame, indexHtml)) return untrusted;
    const answer = await services.api.invoke(String(name), input);
    // The menu follows the app's language setting as the user changes it.
    if (name === "settings.update" && answer.ok) applyMenu(languageSettingOf(answer.value));
    return answer;
  });
  app.on("web-contents-created", (_event, contents) =>
    hardenWebContents(contents, { openExternal: (url) => void nativeShell.openExternal(url), openModelFile: (path) => inbox.receive(path), logger }),
  );

  // Model files from the OS: this launch's command line, later launches, macOS's Finder (before `ready` too).
  const launchedWith = ggufPathFromArgv(process.argv, process.cwd());
  if (launchedWith !== null) inbox.receive(launchedWith);
  app.on("second-instance", (_event, argv, workingDirectory) => {
    const path = ggufPathFromArgv(argv, workingDirectory);
    if (path !== null) inbox.receive(path);
    showMainWindow();
  });
  app.on("open-file", (event, path) => {
    event.preventDefault();
    if (!isGgufPath(path)) return;
    inbox.receive(path);
    if (app.isReady()) showMainWindow();
  });

  app.on("before-quit", () => saveWindowState());
  app.on("before-quit", gracefulQuit({ dispose: () => services.dispose(), exit: (code) => app.exit(code), logger }));
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => app.quit());
  app.on("window-all-closed", () => {
    // macOS apps stay open without windows; the dock icon brings one back (activate).
    if (process.platform !== "darwin") app.quit();
  });
  app.on("activate", () => showMainWindow());

  await app.whenReady();
  hardenSession(session.defaultSession, { rendererDir: RENDERER_DIR, logger });
  const settings = await services.api.invoke("settings.get", {});
  applyMenu(settings.ok ? languageSettingOf(settings.value) : undefined);
  showMainWindow();

  function applyMenu(languageSetting: unknown): void {
    const template = buildMenuTemplate({
      locale: menuLocaleFor(languageSetting, app.getPreferredSystemLanguages()),
      platform: process.platform,
      developer: !app.isPackaged,
      actions: {
        openModelFile: () => void pickModelFile(),
        openDataFolder: () => void nativeShell.openPath(paths.root),
        showLogs: () => void nativeShell.openPath(paths.logFile),
      },
    });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  }

  function showMainWindow(): void {
    if (mainWindow === null) {
      mainWindow = createMainWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  }

  function createMainWindow(): BrowserWindow {
    const workAreas = screen.getAllDisplays().map((display) => display.workArea);
    const saved = restoreWindowState(readWindowState(stateFile), workAreas, WINDOW_SIZE);
    const window = new BrowserWindow(mainWindowOptions(preload, saved));
    const unsubscribe = services.api.subscribe((message) => {
      if (!window.webContents.isDestroyed()) window.webContents.send(EVENT_CHANNEL, message);
    });
    window.once("ready-to-show", () => {
      if (saved?.maximized) window.maximize();
      window.show();
    });
    window.webContents.on("did-finish-load", () => inbox.open());
    window.webContents.on("render-process-gone", (_event, details) => logger.error(`The window's renderer stopped: ${details.reason}`));
    window.on("close", () => saveWindowState());
    window.on("closed", () => {
      unsubscribe();
      inbox.close();
      mainWindow = null;
    });
    window.loadFile(indexHtml).catch((error: unknown) => logger.error(`Could not load ${indexHtml}`, error));
    return window;
  }

  async function pickModelFile(): Promise<void> {
    try {
      const { path } = await nativeShell.pickFile({ filters: [{ name: "GGUF", extensions: ["gguf"] }] });
      if (path !== null) inbox.receive(path);
    } catch (error) {
      logger.error("The open-file dialog failed", error);
    }
  }

  function saveWindowState(): void {
    if (mainWindow === null || mainWindow.isDestroyed()) return;
    try {
      writeWindowState(stateFile, { ...mainWindow.getNormalBounds(), maximized: mainWindow.isMaximized() });
    } catch (error) {
      logger.error("Could not save the window's size and position", error);
    }
  }
}
