import type { Migration } from "./migration.js";

export const conversations: Migration = {
  version: 3,
  description: "conversations and their messages, as trees: regenerations and edits are siblings, never overwrites",
  up(db) {
    db.exec(`
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        -- No foreign key: deleting a model keeps its conversations (they fall back to the default model).
        model_id TEXT,
        sampling TEXT NOT NULL CHECK (json_valid(sampling)),
        current_message_id TEXT,
        pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
        archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
        deleted_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX conversations_by_update ON conversations (deleted_at, archived, pinned DESC, updated_at DESC);

      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        parent_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'interrupted', 'error')),
        error TEXT,
        stats TEXT CHECK (stats IS NULL OR json_valid(stats)),
        model TEXT,
        -- The process writing a streaming answer: on open, answers of processes that are gone become interrupted.
        writer_pid INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at);
      CREATE INDEX messages_by_parent ON messages (parent_id);
      CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
    `);
  },
};
