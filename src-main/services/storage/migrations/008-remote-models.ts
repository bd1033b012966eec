import type { Migration } from "./migration.js";

/**
 * A library entry is a local GGUF or a remote OpenAI-compatible endpoint (vLLM, llama.cpp's server, another BiLLa
 * Desktop). SQLite cannot relax NOT NULL or a CHECK in place, so the table is rebuilt (quality results, which refer to
 * it, keep their rows: migrate() runs with foreign keys off and checks them before committing) with a
 * `kind` and each kind's own columns. An endpoint's API key lives in a table of its own: reading entries
 * (`SELECT * FROM models`) can never pick it up, and only the remote client asks for it.
 */
export const remoteModels: Migration = {
  version: 8,
  description: "remote models: library entries that are OpenAI-compatible endpoints (base URL, model name), their keys kept apart",
  up(db) {
    db.exec(`
      CREATE TABLE models_with_kinds (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'local' CHECK (kind IN ('local', 'remote')),
        path TEXT UNIQUE,
        location TEXT CHECK (location IN ('library', 'external')),
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        is_billa INTEGER NOT NULL DEFAULT 0 CHECK (is_billa IN (0, 1)),
        architecture TEXT,
        parameter_count INTEGER,
        file_type TEXT,
        context_length INTEGER,
        size_bytes INTEGER,
        modified_ms INTEGER,
        chat_template TEXT,
        added_at TEXT NOT NULL,
        prompt_format TEXT NOT NULL DEFAULT 'auto' CHECK (prompt_format IN ('auto', 'billa', 'model')),
        -- The endpoint's base URL (…/v1) and the model's name there.
        base_url TEXT,
        remote_model TEXT,
        CHECK (CASE kind
          WHEN 'local' THEN path IS NOT NULL AND location IS NOT NULL AND size_bytes IS NOT NULL AND modified_ms IS NOT NULL AND base_url IS NULL AND remote_model IS NULL
          ELSE path IS NULL AND location IS NULL AND base_url IS NOT NULL AND remote_model IS NOT NULL
        END)
      );
      INSERT INTO models_with_kinds (id, name, path, location, is_default, is_billa, architecture, parameter_count, file_type, context_length,
          size_bytes, modified_ms, chat_template, added_at, prompt_format)
        SELECT id, name, path, location, is_default, is_billa, architecture, parameter_count, file_type, context_length,
          size_bytes, modified_ms, chat_template, added_at, prompt_format FROM models;
      DROP TABLE models;
      ALTER TABLE models_with_kinds RENAME TO models;
      -- At most one default model, local or remote.
      CREATE UNIQUE INDEX models_one_default ON models (is_default) WHERE is_default = 1;

      CREATE TABLE model_api_keys (
        model_id TEXT PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
        api_key TEXT NOT NULL
      );
    `);
  },
};
