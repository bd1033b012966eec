// Model files handed to the app by the OS: on the command line (first launch, a second launch passed on by
// the single-instance lock, Windows' and Linux's file associations) or by macOS's `open-file` event.
import { extname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Flags of ours that take the next argument as their value, so that value is never taken for a file. */
const FLAGS_WITH_VALUE = new Set(["--data-dir"]);

/**
 * The first `.gguf` among `argv` (executable first, as Electron gives it), resolved against the launching
 * process's working directory. Linux desktop files pass `file://` URLs (%U); those are accepted too.
 */
export function ggufPathFromArgv(argv: readonly string[], workingDirectory: string): string | null {
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index]!;
    if (FLAGS_WITH_VALUE.has(arg)) {
      index++;
      continue;
    }
    if (arg.startsWith("-")) continue;
    if (/^file:/i.test(arg)) {
      const path = ggufPathFromFileUrl(arg);
      if (path !== null) return path;
      continue;
    }
    if (isGgufPath(arg)) return isAbsolute(arg) ? arg : resolve(workingDirectory, arg);
  }
  return null;
}

export function isGgufPath(path: string): boolean {
  return extname(path).toLowerCase() === ".gguf";
}

/** The local path of a `file://` URL naming a .gguf (a Linux launcher's %U, a file dropped on the window), else null. */
export function ggufPathFromFileUrl(url: string): string | null {
  try {
    const path = fileURLToPath(url);
    return isGgufPath(path) ? path : null;
  } catch {
    return null;
  }
}

/**
 * Holds a model file that arrives before the window can show it (macOS sends `open-file` before `ready`;
 * a first launch has its file before the page has loaded), and passes it on once the window is ready.
 */
export class ModelFileInbox {
  #pending: string | null = null;
  #ready = false;

  constructor(private readonly deliver: (path: string) => void) {}

  receive(path: string): void {
    if (this.#ready) this.deliver(path);
    else this.#pending = path;
  }

  /** The window has loaded and listens for `shell.openModelFile`. */
  open(): void {
    this.#ready = true;
    if (this.#pending !== null) {
      const path = this.#pending;
      this.#pending = null;
      this.deliver(path);
    }
  }

  /** The window is gone (macOS keeps the app running): hold files again until the next one loads. */
  close(): void {
    this.#ready = false;
  }
}
