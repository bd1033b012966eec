// The app's settings: one row per key in the database, read through the schema so that keys added by a
// newer version get their defaults and a damaged value falls back instead of breaking start-up.
import { randomBytes } from "node:crypto";
import type { Database } from "better-sqlite3";
import { settingsSchema, type Settings } from "../../contract/api.js";

type SettingKey = keyof Settings;

/**
 * The API server's key, kept next to the settings but outside their schema: `settings.get` never hands it out
 * and `settings.update` cannot set it. Only the API server's own requests show and renew it.
 */
const API_KEY = "apiServer.key";

/** 192 random bits; the prefix tells people (and secret scanners) what the string is. */
export function newApiKey(): string {
  return `billa-${randomBytes(24).toString("base64url")}`;
}

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

  update(changes: { [K in SettingKey]?: Settings[K] | undefined }): Settings {
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(changes)) if (value !== undefined) this.#write(key, value);
    })();
    return this.get();
  }

  /** The API server's bearer key, made on first use. */
  apiKey(): string {
    const row = this.db.prepare<[string], { value: string }>("SELECT value FROM settings WHERE key = ?").get(API_KEY);
    const stored: unknown = row === undefined ? null : JSON.parse(row.value);
    return typeof stored === "string" && stored.length >= 32 ? stored : this.renewApiKey();
  }

  /** A new random key replaces the old one. */
  renewApiKey(): string {
    const key = newApiKey();
    this.#write(API_KEY, key);
    return key;
  }

  #write(key: string, value: unknown): void {
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, JSON.stringify(value));
  }
}
