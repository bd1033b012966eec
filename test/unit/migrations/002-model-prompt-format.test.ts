import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { modelLibrary } from "../../../src-main/services/storage/migrations/001-model-library.js";
import { modelPromptFormat } from "../../../src-main/services/storage/migrations/002-model-prompt-format.js";

describe("migration 002: a prompt format per model", () => {
  it("applies to a fresh database", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, [modelLibrary, modelPromptFormat]);
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    db.prepare("INSERT INTO models (id, name, path, location, size_bytes, modified_ms, added_at, prompt_format) VALUES ('a', 'A', '/a', 'library', 1, 1, 'now', 'billa')").run();
    expect(() => db.prepare("UPDATE models SET prompt_format = 'chatml' WHERE id = 'a'").run()).toThrow(/CHECK/);
    db.close();
  });

  it("upgrades a version 1 database, existing models on automatic recognition", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, [modelLibrary]);
    db.prepare("INSERT INTO models (id, name, path, location, size_bytes, modified_ms, added_at) VALUES ('a', 'A', '/a', 'library', 1, 1, 'now')").run();
    migrate(db, [modelLibrary, modelPromptFormat]);
    expect(db.prepare("SELECT prompt_format FROM models").pluck().get()).toBe("auto");
    db.close();
  });
});
