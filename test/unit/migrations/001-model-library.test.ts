import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { modelLibrary } from "../../../src-main/services/storage/migrations/001-model-library.js";

describe("migration 001: the model library", () => {
  it("applies to a fresh database and allows only one default model", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, [modelLibrary]);
    expect(db.pragma("user_version", { simple: true })).toBe(1);
    const insert = db.prepare(
      "INSERT INTO models (id, name, path, location, is_default, size_bytes, modified_ms, added_at) VALUES (?, ?, ?, 'library', ?, 1, 1, 'now')",
    );
    insert.run("a", "A", "/a.gguf", 1);
    insert.run("b", "B", "/b.gguf", 0);
    expect(() => insert.run("c", "C", "/c.gguf", 1)).toThrow(/UNIQUE/);
    expect(() => insert.run("d", "D", "/a.gguf", 0)).toThrow(/UNIQUE/);
    db.close();
  });
});
