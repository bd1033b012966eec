// A full disk is the user's to fix, not a bug: whichever layer notices it (Node's file writes, SQLite), it becomes
// the same clear error, and what was already saved stays as it was.
import { BillaError } from "../../contract/errors.js";

/** ENOSPC and EDQUOT from Node's fs, SQLITE_FULL from better-sqlite3. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL";
}

export function diskFullError(what: string): BillaError {
  return new BillaError("disk_full", `The disk is full, so ${what} could not be saved; nothing else was changed. Free some space and try again.`);
}
