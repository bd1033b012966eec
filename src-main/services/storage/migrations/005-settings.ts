import type { Migration } from "./migration.js";

export const settings: Migration = {
  version: 5,
  description: "app settings: one JSON value per key, read through the settings schema's defaults",
  up(db) {
    db.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL CHECK (json_valid(value)))`);
  },
};
