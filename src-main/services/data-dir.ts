import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const PRODUCT_NAME = "BiLLa Desktop";

/** Everything the app stores lives under one folder; these are its parts. */
export interface DataPaths {
  root: string;
  database: string;
  models: string;
  logs: string;
  logFile: string;
  /** Conversations' evaluated states while a model is loaded (emptied on unload). */
  sequenceStates: string;
  /** Copies of the database made before a restore replaced it. */
  backups: string;
  /** Where unfinished Hugging Face downloads are (one small file each; the downloads live in their own folders). */
  downloads: string;
  /** Base models' logits for quality measurements, computed once per base file, text and context size. */
  baseLogits: string;
}

export function dataPaths(root: string): DataPaths {
  const logs = join(root, "logs");
  return {
    root,
    database: join(root, "billa.sqlite"),
    models: join(root, "models"),
    logs,
    logFile: join(logs, "billa.log"),
    sequenceStates: join(root, "cache", "sequence-states"),
    backups: join(root, "backups"),
    downloads: join(root, "downloads"),
    baseLogits: join(root, "cache", "base-logits"),
  };
}

/**
 * The app-data folder Electron's `app.getPath("userData")` gives for our product name, computed without
 * Electron so that web mode and the CLI open the same database as the desktop app.
 */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  const home = homedir();
  switch (platform) {
    case "win32":
      return join(env["APPDATA"] ?? join(home, "AppData", "Roaming"), PRODUCT_NAME);
    case "darwin":
      return join(home, "Library", "Application Support", PRODUCT_NAME);
    default:
      return join(env["XDG_CONFIG_HOME"] ?? join(home, ".config"), PRODUCT_NAME);
  }
}

/** `--data-dir DIR` wins, then `BILLA_DATA_DIR`, then the OS's app-data folder. */
export function resolveDataDir(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const flagIndex = argv.findIndex((arg) => arg === "--data-dir" || arg.startsWith("--data-dir="));
  if (flagIndex >= 0) {
    const flag = argv[flagIndex]!;
    const value = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : argv[flagIndex + 1];
    if (!value) throw new Error("--data-dir needs a folder, e.g. --data-dir ~/billa-data");
    return resolve(value);
  }
  const fromEnv = env["BILLA_DATA_DIR"];
  return fromEnv ? resolve(fromEnv) : defaultDataDir(process.platform, env);
}
