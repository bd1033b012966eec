// The model library: GGUF files copied into the data directory's models folder, or registered where they
// are, and models on remote OpenAI-compatible servers. Entries whose file vanished or stopped being a readable
// GGUF are shown as such, never dropped. A remote model's API key is kept in a table of its own and handed only
// to the remote client (endpoint()); entries say whether there is one.
import { randomUUID } from "node:crypto";
import { copyFile, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Database } from "better-sqlite3";
import type { LocalModelEntry, ModelEntry, PromptFormat, RemoteModelEntry } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { isUnencrypted } from "../../contract/remote-endpoint.js";
import type { RemoteEndpoint } from "../remote/remote-client.js";
import { replaceWhenComplete } from "../files/atomic-file.js";
import { diskFullError, isDiskFull } from "../files/disk-full.js";
import { readGgufSummary, type GgufSummary } from "./gguf-summary.js";
import { resolvePromptFormat } from "./prompt-format.js";

interface ModelRow {
  id: string;
  name: string;
  kind: ModelEntry["kind"];
  /** The rest of a local entry's columns are null for a remote one (migration 007's CHECK). */
  path: string;
  location: LocalModelEntry["location"];
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
  prompt_format: PromptFormat;
  base_url: string | null;
  remote_model: string | null;
  /** Whether model_api_keys holds a key for it (the key itself is never selected with the entry). */
  has_api_key: number;
}

/** Every entry's columns and whether it has a key, never the key. */
const SELECT_ENTRIES = "SELECT models.*, EXISTS (SELECT 1 FROM model_api_keys WHERE model_id = models.id) AS has_api_key FROM models";

function entryOf(row: ModelRow, status: LocalModelEntry["status"]): LocalModelEntry {
  return {
    kind: "local",
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

function remoteEntryOf(row: ModelRow): RemoteModelEntry {
  const baseUrl = row.base_url!;
  return {
    kind: "remote",
    id: row.id,
    name: row.name,
    isDefault: row.is_default === 1,
    baseUrl,
    remoteModel: row.remote_model!,
    hasApiKey: row.has_api_key === 1,
    unencrypted: isUnencrypted(baseUrl),
    addedAt: row.added_at,
  };
}

/** A remote model to add: its server's normalised base URL, and the model's name there. */
export interface NewRemoteModel {
  name: string;
  baseUrl: string;
  remoteModel: string;
  apiKey: string | null;
}

export class ModelLibrary {
  constructor(
    private readonly db: Database,
    private readonly modelsDir: string,
  ) {}

  #row(id: string): ModelRow {
    const row = this.db.prepare<[string], ModelRow>(`${SELECT_ENTRIES} WHERE id = ?`).get(id);
    if (!row) throw new BillaError("not_found", "That model is no longer in the library.");
    return row;
  }

  /** The entry as it is now: a remote one as stored, a local one with its file checked. */
  async #entry(row: ModelRow): Promise<ModelEntry> {
    return row.kind === "remote" ? remoteEntryOf(row) : this.#status(row);
  }

  /** Checks the file behind a local entry; a changed file has its metadata read again. */
  async #status(row: ModelRow): Promise<LocalModelEntry> {
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
    const rows = this.db.prepare<[], ModelRow>(`${SELECT_ENTRIES} ORDER BY is_default DESC, added_at`).all();
    return Promise.all(rows.map((row) => this.#entry(row)));
  }

  async entry(id: string): Promise<ModelEntry> {
    return this.#entry(this.#row(id));
  }

  async import(path: string, mode: "copy" | "register"): Promise<LocalModelEntry> {
    const source = resolve(path);
    if (!(await stat(source).catch(() => null))?.isFile()) throw new BillaError("not_found", `${source} does not exist. Check the path.`);
    const summary = await readGgufSummary(source).catch(() => {
      throw new BillaError("bad_file", `${basename(source)} is not a GGUF model file llama.cpp can read. Convert the model first, or choose a .gguf file.`);
    });
    const existing = this.db.prepare<[string], ModelRow>(`${SELECT_ENTRIES} WHERE path = ?`).get(source);
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
    const isFirst = this.#isEmpty();
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

  /** The first model added becomes the default. */
  #isEmpty(): boolean {
    return this.db.prepare("SELECT COUNT(*) FROM models").pluck().get() === 0;
  }

  /** Adds a remote model (its key, if any, in its own table), in one transaction. */
  addRemote(model: NewRemoteModel): RemoteModelEntry {
    const id = randomUUID();
    this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO models (id, name, kind, base_url, remote_model, is_default, added_at) VALUES (?, ?, 'remote', ?, ?, ?, ?)")
        .run(id, model.name, model.baseUrl, model.remoteModel, this.#isEmpty() ? 1 : 0, new Date().toISOString());
      if (model.apiKey !== null) this.db.prepare("INSERT INTO model_api_keys (model_id, api_key) VALUES (?, ?)").run(id, model.apiKey);
    })();
    return remoteEntryOf(this.#row(id));
  }

  /** Where a remote model is answered, with its key: for the remote client only, never for a transport. */
  async endpoint(id: string): Promise<RemoteEndpoint & { name: string }> {
    const row = this.#row(id);
    if (row.kind !== "remote") throw new BillaError("invalid_input", `"${row.name}" is a model on this computer, not on a server.`);
    const key = this.db.prepare<[string], string>("SELECT api_key FROM model_api_keys WHERE model_id = ?").pluck().get(id);
    return { name: row.name, baseUrl: row.base_url!, model: row.remote_model!, apiKey: key ?? null };
  }

  async rename(id: string, name: string): Promise<ModelEntry> {
    this.#row(id);
    this.db.prepare("UPDATE models SET name = ? WHERE id = ?").run(name, id);
    return this.entry(id);
  }

  async setPromptFormat(id: string, promptFormat: PromptFormat): Promise<LocalModelEntry> {
    const row = this.#row(id);
    if (row.kind === "remote") throw new BillaError("invalid_input", `"${row.name}" runs on ${row.base_url}: that server applies its own chat template.`);
    this.db.prepare("UPDATE models SET prompt_format = ? WHERE id = ?").run(promptFormat, id);
    return this.#status(this.#row(id));
  }

  /** The local entry whose file is at this path, if any. */
  async byPath(path: string): Promise<LocalModelEntry | null> {
    const row = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE path = ?").get(resolve(path));
    return row ? this.#status(row) : null;
  }

  /** The file and prompt format to load for an entry; refuses remote entries and entries whose file is gone or damaged. */
  async loadable(id: string): Promise<{ path: string; promptFormat: PromptFormat }> {
    const row = this.#row(id);
    if (row.kind === "remote") throw new BillaError("invalid_input", `"${row.name}" runs on ${row.base_url}, not on this computer: there is nothing to load. Chat with it instead.`);
    const entry = await this.#status(row);
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
    return this.entry(id);
  }

  /** Forgets the entry (a remote model's key with it); a file the library owns is deleted, a registered one stays where it is. */
  async delete(id: string): Promise<{ deleted: boolean }> {
    const row = this.db.prepare<[string], ModelRow>("SELECT * FROM models WHERE id = ?").get(id);
    if (!row) return { deleted: false };
    this.db.prepare("DELETE FROM models WHERE id = ?").run(id); // its key goes with it (ON DELETE CASCADE)
    if (row.location === "library") await rm(row.path, { force: true });
    return { deleted: true };
  }
}
