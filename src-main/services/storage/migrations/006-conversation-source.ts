import type { Migration } from "./migration.js";

export const conversationSource: Migration = {
  version: 6,
  description: "each conversation says where it was held: in the app, or through the local OpenAI-compatible API",
  up(db) {
    db.exec(`ALTER TABLE conversations ADD COLUMN source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'api'))`);
  },
};
