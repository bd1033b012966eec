import type { Migration } from "./migration.js";

/**
 * Full-text search over messages. SQLite's default tokenizer sees a run of Chinese characters as one word,
 * so the index uses trigrams, which find any substring of three or more characters in any script (shorter
 * queries are answered by a scan). Answers are indexed once they stop streaming, not on every saved chunk.
 */
export const messageSearch: Migration = {
  version: 4,
  description: "full-text search over messages (FTS5, trigram tokenizer)",
  up(db) {
    db.exec(`
      CREATE VIRTUAL TABLE messages_search USING fts5 (text, content = 'messages', content_rowid = 'rowid', tokenize = 'trigram');
      INSERT INTO messages_search (rowid, text) SELECT rowid, text FROM messages WHERE status != 'streaming';

      CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
        INSERT INTO messages_search (rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TRIGGER messages_search_unindex AFTER UPDATE OF text, status ON messages WHEN old.status != 'streaming' BEGIN
        INSERT INTO messages_search (messages_search, rowid, text) VALUES ('delete', old.rowid, old.text);
      END;
      CREATE TRIGGER messages_search_reindex AFTER UPDATE OF text, status ON messages WHEN new.status != 'streaming' BEGIN
        INSERT INTO messages_search (rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TRIGGER messages_search_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
        INSERT INTO messages_search (messages_search, rowid, text) VALUES ('delete', old.rowid, old.text);
      END;
    `);
  },
};
