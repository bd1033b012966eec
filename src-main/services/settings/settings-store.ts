// The app's settings: one row per key in the database, read through the schema so that keys added by a
// newer version get their defaults and a damaged value falls back instead of breaking start-up.
import type { Database } from "better-sqlite3";
import { settingsSchema, type RequestParams, type Settings } from "../../contract/api.js";

type SettingKey = keyof Settings;

export class SettingsStore {
  constructor(private readonly db: Database) {}

  get(): Settings {
    const rows = this.db.prepare<[], { key: string; value: string }>("SELECT key, value FROM settings").all();
    const shape = settingsSchema.shape;
    const stored: Partial<Record<SettingKey, unknown>> = {};
    for (const { key, value } of rows) {
      if (!Object.hasOwn(shape, key)) continue;
      const parsed = shape[key as SettingKey].safeParse(JSON.parse(value));
      if (parsed.success) stored[key as SettingKey] = parsed.data;
    }
    return settingsSchema.parse(stored);
  }

  update(changes: RequestParams<"settings.update">): Settings {
    const upsert = this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(changes)) if (value !== undefined) upsert.run(key, JSON.stringify(value));
    })();
    return this.get();
  }
}
