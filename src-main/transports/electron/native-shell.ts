// ShellActions for the desktop app: native file dialogs parented to the main window, the system file manager,
// and the system browser for http(s) links. Electron's modules come in as arguments, so the tests drive this
// with stand-ins (the real `electron` module only loads inside Electron).
import type { BaseWindow, Dialog, FileFilter, OpenDialogOptions, SaveDialogOptions, Shell } from "electron";
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../../services/logger.js";
import type { ShellActions } from "../../services/shell/shell-actions.js";
import { safeExternalUrl } from "./external-url.js";

export interface NativeShellDeps {
  dialog: Pick<Dialog, "showOpenDialog" | "showSaveDialog">;
  shell: Pick<Shell, "openPath" | "showItemInFolder" | "openExternal">;
  /** The window dialogs are attached to; null while there is none. */
  window: () => BaseWindow | null;
  logger: Logger;
}

function kindOf(path: string): "file" | "folder" | "missing" {
  try {
    return statSync(path).isDirectory() ? "folder" : "file";
  } catch {
    return "missing";
  }
}

/** Electron's options object without the keys whose value is undefined (exactOptionalPropertyTypes). */
function withTitle<T extends object>(options: T, title: string | undefined): T & { title?: string } {
  return title === undefined ? options : { ...options, title };
}

export function createNativeShell({ dialog, shell, window, logger }: NativeShellDeps): ShellActions {
  const parent = (): BaseWindow | null => {
    const current = window();
    return current !== null && !current.isDestroyed() ? current : null;
  };
  const open = (options: OpenDialogOptions) => {
    const owner = parent();
    return owner ? dialog.showOpenDialog(owner, options) : dialog.showOpenDialog(options);
  };
  const save = (options: SaveDialogOptions) => {
    const owner = parent();
    return owner ? dialog.showSaveDialog(owner, options) : dialog.showSaveDialog(options);
  };
  const filtersOf = (filters: readonly FileFilter[]): FileFilter[] => filters.map(({ name, extensions }) => ({ name, extensions: [...extensions] }));

  return {
    async pickFile({ title, filters }) {
      const result = await open(withTitle({ properties: ["openFile"], filters: filtersOf(filters) }, title));
      return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
    },

    async pickFolder({ title }) {
      const result = await open(withTitle({ properties: ["openDirectory", "createDirectory"] }, title));
      return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
    },

    async pickSaveFile({ title, defaultName, filters }) {
      // Only a name is suggested; the folder is the user's choice in the dialog.
      const options: SaveDialogOptions = {
        defaultPath: basename(defaultName),
        filters: filtersOf(filters),
        properties: ["createDirectory", "showOverwriteConfirmation"],
      };
      const result = await save(withTitle(options, title));
      return { path: result.canceled || !result.filePath ? null : result.filePath };
    },

    async openPath(path) {
      const kind = kindOf(path);
      if (kind === "file") {
        // A file (the log) is shown selected in its folder rather than opened in whatever app claims it.
        shell.showItemInFolder(path);
        return { opened: true };
      }
      // A log file not written yet: show the folder it will be in.
      const folder = kind === "folder" ? path : dirname(path);
      if (kindOf(folder) !== "folder") return { opened: false };
      const error = await shell.openPath(folder);
      if (error !== "") logger.error(`Could not open ${folder}: ${error}`);
      return { opened: error === "" };
    },

    async openExternal(url) {
      const safe = safeExternalUrl(url);
      if (safe === null) {
        logger.error(`Refused to open a link that is not plain http(s): ${JSON.stringify(String(url).slice(0, 200))}`);
        return { opened: false };
      }
      try {
        await shell.openExternal(safe);
        return { opened: true };
      } catch (error) {
        logger.error(`Could not open ${safe} in the browser`, error);
        return { opened: false };
      }
    },
  };
}
