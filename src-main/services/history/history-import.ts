// Reading a JSON export back: untrusted text from anywhere, so it is parsed and checked against the
// export schema before anything touches the database, and every failure says what is wrong with the file.
import { HISTORY_EXPORT_FORMAT, historyExportSchema, type HistoryExport } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";

export function parseHistoryExport(content: string): HistoryExport {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch {
    throw new BillaError("bad_file", "This file is not JSON. Import a BiLLa Desktop JSON export.");
  }
  const format = (data as { format?: unknown } | null)?.format;
  if (format !== HISTORY_EXPORT_FORMAT) {
    throw new BillaError("bad_file", "This JSON file is not a BiLLa Desktop history export. Nothing was imported.");
  }
  const parsed = historyExportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const version = (data as { version?: unknown }).version;
    if (version !== 1) throw new BillaError("bad_file", `This export has version ${String(version)}; this BiLLa Desktop reads version 1. Update the app.`);
    throw new BillaError("bad_file", `The export is damaged at ${issue.path.join(".") || "its top level"}: ${issue.message}. Nothing was imported.`);
  }
  return parsed.data;
}
