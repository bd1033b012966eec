// The app's SQLite database: one file in the data directory, written ahead (WAL) so a crash never corrupts
// it, foreign keys enforced, and its schema brought up to date by the numbered migrations on open.
import BetterSqlite3, { type Database } from "better-sqlite3";
import { BillaError } from "../../contract/errors.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { Migration } from "./migrations/migration.js";

/**
 * Applies the migrations newer than the database's `user_version`, each in its own transaction. Foreign keys are off
 * meanwhile, as SQLite's procedure for changing a table asks: rebuilding a table (create, copy, drop, rename) would
 * otherwise delete, by cascade, every row that refers to it. Each migration must leave them consistent.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new BillaError("bad_file", `The database was written by a newer BiLLa Desktop (schema ${current}, this one knows ${newest}). Update the app.`);
  }
  const foreignKeys = db.pragma("foreign_keys", { simple: true }) === 1;
  db.pragma("foreign_keys = OFF");
  try {
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.transaction(() => {
        migration.up(db);
        const broken = db.pragma("foreign_key_check") as unknown[];
        if (broken.length > 0) throw new Error(`migration ${migration.version} left ${broken.length} rows referring to nothing`);
        db.pragma(`user_version = ${migration.version}`);
      })();
    }
  } finally {
    if (foreignKeys) db.pragma("foreign_keys = ON");
  }
}

export function openDatabase(path: string): Database {
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(path);
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    migrate(db);
  } catch (error) {
    db?.close();
    if (error instanceof BillaError) throw error;
    throw new BillaError("bad_file", `${path} is not a BiLLa Desktop database or is damaged (${(error as Error).message}). Restore a backup, or move it away to start fresh.`);
  }
  return db!;
}
