import type { Migration } from "./migration.js";

export const modelLibrary: Migration = {
  version: 1,
  description: "the model library: GGUF files in the models folder or registered where they are",
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        location TEXT NOT NULL CHECK (location IN ('library', 'external')),
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        is_billa INTEGER NOT NULL DEFAULT 0 CHECK (is_billa IN (0, 1)),
        architecture TEXT,
        parameter_count INTEGER,
        file_type TEXT,
        context_length INTEGER,
        size_bytes INTEGER NOT NULL,
        modified_ms INTEGER NOT NULL,
        chat_template TEXT,
        added_at TEXT NOT NULL
      );
      -- At most one default model.
      CREATE UNIQUE INDEX models_one_default ON models (is_default) WHERE is_default = 1;
    `);
  },
};
