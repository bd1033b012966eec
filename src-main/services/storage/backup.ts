// Backups of the live database with SQLite's online backup API: a consistent copy while the app keeps
// running, written under a temporary name and renamed, so a backup file is either complete or absent.
import { mkdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { BillaError } from "../../contract/errors.js";
import { replaceWhenComplete } from "../files/atomic-file.js";
import { diskFullError, isDiskFull } from "../files/disk-full.js";
import { migrate } from "./database.js";
import { MIGRATIONS } from "./migrations/index.js";

export async function backupDatabase(db: Database, outPath: string): Promise<{ path: string; bytes: number }> {
  const target = resolve(outPath);
  await replaceWhenComplete(target, (partial) => db.backup(partial)).catch((error: unknown) => {
    throw isDiskFull(error) ? diskFullError(`the backup ${basename(target)}`) : new BillaError("bad_file", `The backup could not be written to ${target} (${(error as Error).message}). Choose another folder.`);
  });
  return { path: target, bytes: (await stat(target)).size };
}

/** Opens a backup read-only and checks that it is a whole BiLLa Desktop database this version can read. */
function openBackup(path: string): Database {
  let source: Database | undefined;
  try {
    source = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    const integrity = source.pragma("integrity_check", { simple: true });
    if (integrity !== "ok") throw new Error(`integrity check: ${String(integrity)}`);
    const version = source.pragma("user_version", { simple: true }) as number;
    const newest = MIGRATIONS.at(-1)!.version;
    if (version > newest) throw new BillaError("bad_file", `${basename(path)} was written by a newer BiLLa Desktop; update the app to restore it.`);
    if (version < 1 || !source.prepare("SELECT 1 FROM sqlite_master WHERE name = 'models'").get()) throw new Error("no BiLLa Desktop tables");
    return source;
  } catch (error) {
    source?.close();
    if (error instanceof BillaError) throw error;
    throw new BillaError("bad_file", `${basename(path)} is not a usable BiLLa Desktop backup (${(error as Error).message}). Nothing was changed.`);
  }
}

/**
 * Replaces the live database's content with a backup's, after saving the current content next to it.
 * SQLite's backup API writes into the live file under its own locks, so the open connection stays valid.
 */
export async function restoreDatabase(db: Database, backupPath: string, safetyDir: string): Promise<{ previousSavedTo: string }> {
  const source = openBackup(resolve(backupPath));
  try {
    await mkdir(safetyDir, { recursive: true });
    const previous = await backupDatabase(db, join(safetyDir, `before-restore-${new Date().toISOString().replace(/[:.]/g, "-")}.sqlite`));
    await source.backup(db.name);
    migrate(db);
    return { previousSavedTo: previous.path };
  } finally {
    source.close();
  }
}
