// The application menu, in the app's two languages. Labels are a typed dictionary (like the renderer's): the
// compiler checks every key in both. Electron's built-in roles are kept for behaviour (undo, zoom, quit…) but
// given our labels, because outside macOS Electron labels roles in English only.
import type { MenuItemConstructorOptions } from "electron";

export const MENU_LOCALES = ["zh-CN", "en"] as const;
export type MenuLocale = (typeof MENU_LOCALES)[number];

const en = {
  file: "File",
  openModelFile: "Open Model File…",
  openDataFolder: "Open Data Folder",
  showLogs: "Show Logs",
  quit: "Quit BiLLa Desktop",
  edit: "Edit",
  undo: "Undo",
  redo: "Redo",
  cut: "Cut",
  copy: "Copy",
  paste: "Paste",
  selectAll: "Select All",
  view: "View",
  reload: "Reload",
  toggleDevTools: "Toggle Developer Tools",
  resetZoom: "Actual Size",
  zoomIn: "Zoom In",
  zoomOut: "Zoom Out",
  toggleFullScreen: "Toggle Full Screen",
  window: "Window",
  minimize: "Minimize",
  zoom: "Zoom",
  close: "Close Window",
  front: "Bring All to Front",
  help: "Help",
  about: "About BiLLa Desktop",
  services: "Services",
  hide: "Hide BiLLa Desktop",
  hideOthers: "Hide Others",
  unhide: "Show All",
} as const;

export type MenuLabelKey = keyof typeof en;
export type MenuLabels = Readonly<Record<MenuLabelKey, string>>;

const zhCN: MenuLabels = {
  file: "文件",
  openModelFile: "打开模型文件…",
  openDataFolder: "打开数据文件夹",
  showLogs: "查看日志",
  quit: "退出 BiLLa Desktop",
  edit: "编辑",
  undo: "撤销",
  redo: "重做",
  cut: "剪切",
  copy: "复制",
  paste: "粘贴",
  selectAll: "全选",
  view: "视图",
  reload: "重新加载",
  toggleDevTools: "切换开发者工具",
  resetZoom: "实际大小",
  zoomIn: "放大",
  zoomOut: "缩小",
  toggleFullScreen: "切换全屏",
  window: "窗口",
  minimize: "最小化",
  zoom: "缩放",
  close: "关闭窗口",
  front: "全部置于顶层",
  help: "帮助",
  about: "关于 BiLLa Desktop",
  services: "服务",
  hide: "隐藏 BiLLa Desktop",
  hideOthers: "隐藏其他",
  unhide: "全部显示",
};

export const MENU_LABELS: Readonly<Record<MenuLocale, MenuLabels>> = { en, "zh-CN": zhCN };

/** Chinese for any zh-* language, English otherwise: the renderer's rule for its first language. */
export function menuLocale(languages: readonly string[]): MenuLocale {
  return languages.some((language) => language.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

/**
 * The menu's language: the app's language setting when it names one of ours ("zh-CN", "en"), else (unset,
 * "system", or no such setting) the system's, by the same rule as the renderer.
 */
export function menuLocaleFor(languageSetting: unknown, systemLanguages: readonly string[]): MenuLocale {
  return (MENU_LOCALES as readonly unknown[]).includes(languageSetting) ? (languageSetting as MenuLocale) : menuLocale(systemLanguages);
}

/** `language` of a settings object as the services answer it, without trusting its shape. */
export function languageSettingOf(settings: unknown): unknown {
  return typeof settings === "object" && settings !== null ? (settings as { language?: unknown }).language : undefined;
}

/** What the app's own menu items do; main.ts wires them to dialogs and the services. */
export interface MenuActions {
  openModelFile(): void;
  openDataFolder(): void;
  showLogs(): void;
}

export interface MenuOptions {
  locale: MenuLocale;
  platform: NodeJS.Platform;
  /** Reload and developer tools, for an unpackaged (development) run only. */
  developer: boolean;
  actions: MenuActions;
}

export function buildMenuTemplate({ locale, platform, developer, actions }: MenuOptions): MenuItemConstructorOptions[] {
  const t = MENU_LABELS[locale];
  const mac = platform === "darwin";
  const separator = (): MenuItemConstructorOptions => ({ type: "separator" });

  const appMenu: MenuItemConstructorOptions = {
    id: "app",
    label: "BiLLa Desktop",
    submenu: [
      { id: "about", role: "about", label: t.about },
      separator(),
      { id: "services", role: "services", label: t.services },
      separator(),
      { id: "hide", role: "hide", label: t.hide },
      { id: "hide-others", role: "hideOthers", label: t.hideOthers },
      { id: "unhide", role: "unhide", label: t.unhide },
      separator(),
      { id: "quit", role: "quit", label: t.quit },
    ],
  };

  const fileMenu: MenuItemConstructorOptions = {
    id: "file",
    label: t.file,
    submenu: [
      { id: "open-model-file", label: t.openModelFile, accelerator: "CmdOrCtrl+O", click: () => actions.openModelFile() },
      separator(),
      { id: "open-data-folder", label: t.openDataFolder, click: () => actions.openDataFolder() },
      { id: "show-logs", label: t.showLogs, click: () => actions.showLogs() },
      // On macOS, Quit lives in the app menu.
      ...(mac ? [] : [separator(), { id: "quit", role: "quit", label: t.quit } satisfies MenuItemConstructorOptions]),
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    id: "edit",
    label: t.edit,
    submenu: [
      { id: "undo", role: "undo", label: t.undo },
      { id: "redo", role: "redo", label: t.redo },
      separator(),
      { id: "cut", role: "cut", label: t.cut },
      { id: "copy", role: "copy", label: t.copy },
      { id: "paste", role: "paste", label: t.paste },
      { id: "select-all", role: "selectAll", label: t.selectAll },
    ],
  };

  const viewMenu: MenuItemConstructorOptions = {
    id: "view",
    label: t.view,
    submenu: [
      ...(developer
        ? [
            { id: "reload", role: "reload", label: t.reload } satisfies MenuItemConstructorOptions,
            { id: "toggle-dev-tools", role: "toggleDevTools", label: t.toggleDevTools } satisfies MenuItemConstructorOptions,
            separator(),
          ]
        : []),
      { id: "reset-zoom", role: "resetZoom", label: t.resetZoom },
      { id: "zoom-in", role: "zoomIn", label: t.zoomIn },
      { id: "zoom-out", role: "zoomOut", label: t.zoomOut },
      separator(),
      { id: "toggle-full-screen", role: "togglefullscreen", label: t.toggleFullScreen },
    ],
  };

  const windowMenu: MenuItemConstructorOptions = {
    id: "window",
    label: t.window,
    role: "windowMenu",
    submenu: [
      { id: "minimize", role: "minimize", label: t.minimize },
      ...(mac
        ? [
            { id: "zoom", role: "zoom", label: t.zoom } satisfies MenuItemConstructorOptions,
            separator(),
            { id: "front", role: "front", label: t.front } satisfies MenuItemConstructorOptions,
          ]
        : [{ id: "close", role: "close", label: t.close } satisfies MenuItemConstructorOptions]),
    ],
  };

  const helpMenu: MenuItemConstructorOptions = {
    id: "help",
    label: t.help,
    role: "help",
    submenu: [
      { id: "show-logs-help", label: t.showLogs, click: () => actions.showLogs() },
      ...(mac ? [] : [{ id: "about", role: "about", label: t.about } satisfies MenuItemConstructorOptions]),
    ],
  };

  return [...(mac ? [appMenu] : []), fileMenu, editMenu, viewMenu, windowMenu, helpMenu];
}
