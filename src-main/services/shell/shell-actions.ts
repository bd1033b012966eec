// What only a desktop shell can do (native dialogs, opening folders and links). The Electron transport
// supplies these; web mode and the CLI do not, and their requests answer `unsupported` so the UI falls back.
import type { RequestOutput, RequestParams } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";

export interface ShellActions {
  pickFile(options: RequestParams<"shell.pickFile">): Promise<RequestOutput<"shell.pickFile">>;
  pickFolder(options: RequestParams<"shell.pickFolder">): Promise<RequestOutput<"shell.pickFolder">>;
  pickSaveFile(options: RequestParams<"shell.pickSaveFile">): Promise<RequestOutput<"shell.pickSaveFile">>;
  /** Shows a folder or file in the system's file manager. */
  openPath(path: string): Promise<{ opened: boolean }>;
  /** Opens an already validated http(s) URL in the system browser. */
  openExternal(url: string): Promise<{ opened: boolean }>;
}

function unsupported(): never {
  throw new BillaError("unsupported", "This needs the desktop app; type the path instead.");
}

export const NO_SHELL: ShellActions = {
  pickFile: async () => unsupported(),
  pickFolder: async () => unsupported(),
  pickSaveFile: async () => unsupported(),
  openPath: async () => unsupported(),
  openExternal: async () => unsupported(),
};
