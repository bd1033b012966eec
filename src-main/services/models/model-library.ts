// The model library: GGUF files copied into the data directory's models folder, or registered where they
// are. Entries whose file vanished or stopped being a readable GGUF are shown as such, never dropped.
import { randomUUID } from "node:crypto";
import { copyFile, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Database } from "better-sqlite3";
import type { ModelEntry } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { replaceWhenComplete } from "../files/atomic-file.js";
import { diskFullError, isDiskFull } from "../files/disk-full.js";
import { readGgufSummary, type GgufSummary } from "./gguf-summary.js";
import { resolvePromptFormat } from "./prompt-format.js";

interface ModelRow {
  id: string;
  name: string;
  path: string;
  location: ModelEntry["location"];
  is_default: number;
  /** The file carries BiLLa Desktop's billa.prompt_format metadata. */
  is_billa: number;
  architecture: string | null;
  parameter_count: number | null;
  file_type: string | null;
  context_length: number | null;
  size_bytes: number;
  modified_ms: number;
  chat_template: string | null;
  added_at: string;
  prompt_format: ModelEntry["promptFormat"];
}

function entryOf(row: ModelRow, status: ModelEntry["status"]): ModelEntry {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    location: row.location,
    status,
    isDefault: row.is_default === 1,
    promptFormat: row.prompt_format,
    resolvedPromptFormat: resolvePromptFormat(row.prompt_format, { hasBillaMetadata: row.is_billa === 1, chatTemplate: row.chat_template }),
    architecture: row.architecture,
    parameterCount: row.parameter_count,
    fileType: row.file_type,
    contextLength: row.context_length,
    sizeBytes: row.size_bytes,
    chatTemplate: row.chat_template,
    addedAt: row.added_at,
  };
}

export class ModelLibrary {
  constructor(
    private readonly db: Database,
    private readonly modelsDir: string,
  ) {}

  #row(id: string): ModelRow {
    const row = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE id = ?").get(id);
    if (!row) throw new BillaError("not_found", "That model is no longer in the library.");
    return row;
  }

  /** Checks the file behind an entry; a changed file has its metadata read again. */
  async #status(row: ModelRow): Promise<ModelEntry> {
    const info = await stat(row.path).catch(() => null);
    if (!info?.isFile()) return entryOf(row, "missing");
    if (info.size === row.size_bytes && Math.round(info.mtimeMs) === row.modified_ms) return entryOf(row, "ok");
    try {
      const summary = await readGgufSummary(row.path);
      this.#saveSummary(row.id, summary, info.size, info.mtimeMs);
      return entryOf(this.#row(row.id), "ok");
    } catch {
      return entryOf(row, "unreadable");
    }
  }

  #saveSummary(id: string, summary: GgufSummary, size: number, mtimeMs: number): void {
    this.db
      .prepare(
        `UPDATE models SET is_billa = ?, architecture = ?, parameter_count = ?, file_type = ?, context_length = ?,
           size_bytes = ?, modified_ms = ?, chat_template = ? WHERE id = ?`,
      )
      .run(summary.isBilla ? 1 : 0, summary.architecture, summary.parameterCount, summary.fileType, summary.contextLength, size, Math.round(mtimeMs), summary.chatTemplate, id);
  }

  async list(): Promise<ModelEntry[]> {
    const rows = this.db.prepare<[], ModelRow>("SELECT * FROM models ORDER BY is_default DESC, added_at").all();
    return Promise.all(rows.map((row) => this.#status(row)));
  }

  async import(path: string, mode: "copy" | "register"): Promise<ModelEntry> {
    const source = resolve(path);
    if (!(await stat(source).catch(() => null))?.isFile()) throw new BillaError("not_found", `${source} does not exist. Check the path.`);
    const summary = await readGgufSummary(source).catch(() => {
      throw new BillaError("bad_file", `${basename(source)} is not a GGUF model file llama.cpp can read. Convert the model first, or choose a .gguf file.`);
    });
    const existing = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE path = ?").get(source);
    if (existing) return this.#status(existing);

    const id = randomUUID();
    let target = source;
    // A file already in the models folder (e.g. written there by a conversion) belongs to the library as it is.
    const inLibrary = dirname(source) === resolve(this.modelsDir);
    if (mode === "copy" && !inLibrary) {
      target = join(this.modelsDir, `${basename(source, ".gguf")}-${id.slice(0, 8)}.gguf`);
      // Copied under a temporary name first: a cancelled or failed copy never looks like a model.
      await replaceWhenComplete(target, (partial) => copyFile(source, partial)).catch((error: unknown) => {
        throw isDiskFull(error) ? diskFullError(`the copy of ${basename(source)}`) : new BillaError("bad_file", `Copying ${basename(source)} into the library failed (${(error as Error).message}).`);
      });
    }
    const info = await stat(target);
    const isFirst = (this.db.prepare("SELECT COUNT(*) AS n FROM models").get() as { n: number }).n === 0;
    this.db
      .prepare(
        `INSERT INTO models (id, name, path, location, is_default, is_billa, architecture, parameter_count, file_type,
           context_length, size_bytes, modified_ms, chat_template, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        summary.name ?? basename(source, ".gguf"),
        target,
        mode === "copy" || inLibrary ? "library" : "external",
        isFirst ? 1 : 0,
        summary.isBilla ? 1 : 0,
        summary.architecture,
        summary.parameterCount,
        summary.fileType,
        summary.contextLength,
        info.size,
        Math.round(info.mtimeMs),
        summary.chatTemplate,
        new Date().toISOString(),
      );
    return this.#status(this.#row(id));
  }

  async rename(id: string, name: string): Promise<ModelEntry> {
    this.#row(id);
    this.db.prepare("UPDATE models SET name = ? WHERE id = ?").run(name, id);
    return this.#status(this.#row(id));
  }

  async setPromptFormat(id: string, promptFormat: ModelEntry["promptFormat"]): Promise<ModelEntry> {
    this.#row(id);
    this.db.prepare("UPDATE models SET prompt_format = ? WHERE id = ?").run(promptFormat, id);
    return this.#status(this.#row(id));
  }

  /** The entry with its file checked; throws not_found for an id that is not in the library. */
  async get(id: string): Promise<ModelEntry> {
    return this.#status(this.#row(id));
  }

  /** The entry whose file is at this path, if any. */
  async byPath(path: string): Promise<ModelEntry | null> {
    const row = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE path = ?").get(resolve(path));
    return row ? this.#status(row) : null;
  }

  /** The file and prompt format to load for an entry; refuses entries whose file is gone or damaged. */
  async loadable(id: string): Promise<{ path: string; promptFormat: ModelEntry["promptFormat"] }> {
    const entry = await this.#status(this.#row(id));
    if (entry.status === "missing") throw new BillaError("not_found", `The file of "${entry.name}" is gone (${entry.path}). Import it again or delete the entry.`);
    if (entry.status === "unreadable") throw new BillaError("bad_file", `The file of "${entry.name}" is no longer a readable GGUF (${entry.path}).`);
    return { path: entry.path, promptFormat: entry.promptFormat };
  }

  async setDefault(id: string): Promise<ModelEntry> {
    this.#row(id);
    this.db.transaction(() => {
      this.db.prepare("UPDATE models SET is_default = 0 WHERE is_default = 1").run();
      this.db.prepare("UPDATE models SET is_default = 1 WHERE id = ?").run(id);
    })();
    return this.#status(this.#row(id));
  }

  /** Forgets the entry; a file the library owns is deleted, a registered one stays where it is. */
  async delete(id: string): Promise<{ deleted: boolean }> {
    const row = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE id = ?").get(id);
    if (!row) return { deleted: false };
    this.db.prepare("DELETE FROM models WHERE id = ?").run(id);
    if (row.location === "library") await rm(row.path, { force: true });
    return { deleted: true };
  }
}
