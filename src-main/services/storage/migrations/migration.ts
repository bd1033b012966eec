import type { Database } from "better-sqlite3";

/** One schema change; `version` is its number in the sequence, applied once, in order, in a transaction. */
export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}
