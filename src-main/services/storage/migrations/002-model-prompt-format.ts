import type { Migration } from "./migration.js";

export const modelPromptFormat: Migration = {
  version: 2,
  description: "each library model remembers its prompt format: recognised, BiLLa's, or the file's own template",
  up(db) {
    db.exec(`ALTER TABLE models ADD COLUMN prompt_format TEXT NOT NULL DEFAULT 'auto' CHECK (prompt_format IN ('auto', 'billa', 'model'))`);
  },
};
