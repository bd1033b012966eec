import type { Migration } from "./migration.js";

/**
 * What quantization costs each library model: one row per model, evaluation text and context size (a new
 * measurement replaces the old), deleted with the model. The numbers (perplexity, drift from the base) are the
 * measurement's JSON; the text, context size and app version that produced them are columns.
 */
export const qualityResults: Migration = {
  version: 7,
  description: "quality measurements (perplexity, KL divergence) stored with each library model",
  up(db) {
    db.exec(`
      CREATE TABLE quality_results (
        model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        text_id TEXT NOT NULL,
        text_name TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        context_size INTEGER NOT NULL CHECK (context_size > 0),
        app_version TEXT NOT NULL,
        measured_at TEXT NOT NULL,
        measurement TEXT NOT NULL CHECK (json_valid(measurement)),
        PRIMARY KEY (model_id, text_id, context_size)
      );
      CREATE INDEX quality_results_by_time ON quality_results (measured_at DESC);
    `);
  },
};
