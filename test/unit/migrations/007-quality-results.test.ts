import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);
const addModel = (db: BetterSqlite3.Database, id: string) =>
  db.prepare("INSERT INTO models (id, name, path, location, size_bytes, modified_ms, added_at) VALUES (?, ?, ?, 'library', 1, 1, 'now')").run(id, id, `/${id}.gguf`);
const addResult = (db: BetterSqlite3.Database, modelId: string, contextSize = 512, measurement = '{"perplexity": 7.5}') =>
  db
    .prepare("INSERT OR REPLACE INTO quality_results (model_id, text_id, text_name, text_sha256, context_size, app_version, measured_at, measurement) VALUES (?, 'builtin:zh', 'zh', 'abc', ?, '0.1.0', 'now', ?)")
    .run(modelId, contextSize, measurement);

describe("migration 007: quality results", () => {
  it("applies to a fresh database: one row per model, text and context size, gone with its model", () => {
    const db = new BetterSqlite3(":memory:");
    db.pragma("foreign_keys = ON");
    migrate(db, upTo(7));
    expect(db.pragma("user_version", { simple: true })).toBe(7);
    addModel(db, "a");
    addResult(db, "a");
    addResult(db, "a", 512, '{"perplexity": 7.4}');
    addResult(db, "a", 1024);
    expect(db.prepare("SELECT COUNT(*) FROM quality_results").pluck().get()).toBe(2);
    expect(() => addResult(db, "a", 512, "not json")).toThrow(/CHECK/);
    expect(() => addResult(db, "nobody")).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM models WHERE id = 'a'").run();
    expect(db.prepare("SELECT COUNT(*) FROM quality_results").pluck().get()).toBe(0);
    db.close();
  });

  it("upgrades the previous version's database, its models kept and without results", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(6));
    addModel(db, "a");
    migrate(db, upTo(7));
    expect(db.prepare("SELECT id FROM models").pluck().all()).toEqual(["a"]);
    expect(db.prepare("SELECT COUNT(*) FROM quality_results").pluck().get()).toBe(0);
    db.close();
  });
});
