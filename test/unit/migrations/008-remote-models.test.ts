import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);
const insertLocal = "INSERT INTO models (id, name, path, location, is_default, size_bytes, modified_ms, added_at, prompt_format) VALUES (?, ?, ?, 'library', ?, 10, 20, 'then', 'billa')";
const insertRemote = "INSERT INTO models (id, name, kind, base_url, remote_model, added_at) VALUES (?, ?, 'remote', ?, ?, 'now')";

function open(version: number): BetterSqlite3.Database {
  const db = new BetterSqlite3(":memory:");
  db.pragma("foreign_keys = ON");
  migrate(db, upTo(version));
  return db;
}

describe("migration 008: remote models in the library", () => {
  it("applies to a fresh database: local files and remote endpoints, each with its own columns", () => {
    const db = open(8);
    expect(db.pragma("user_version", { simple: true })).toBe(8);
    db.prepare(insertLocal).run("local", "Local", "/models/a.gguf", 1);
    db.prepare(insertRemote).run("remote", "Team server", "http://gpu:8000/v1", "billa-7b-sft");
    expect(db.prepare("SELECT id, kind FROM models ORDER BY id").all()).toEqual([
      { id: "local", kind: "local" },
      { id: "remote", kind: "remote" },
    ]);
    // A remote entry needs its endpoint and has no file; a local one needs its file.
    expect(() => db.prepare("INSERT INTO models (id, name, kind, base_url, added_at) VALUES ('x', 'X', 'remote', 'http://h/v1', 'now')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO models (id, name, kind, path, location, size_bytes, modified_ms, base_url, remote_model, added_at) VALUES ('y', 'Y', 'remote', '/y', 'library', 1, 1, 'http://h/v1', 'm', 'now')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO models (id, name, added_at) VALUES ('z', 'Z', 'now')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO models (id, name, kind, base_url, remote_model, added_at) VALUES ('w', 'W', 'cloud', 'http://h/v1', 'm', 'now')").run()).toThrow(/CHECK/);
    // Still at most one default, whatever the kind.
    expect(() => db.prepare("UPDATE models SET is_default = 1 WHERE id = 'remote'").run()).toThrow(/UNIQUE/);
    db.close();
  });

  it("keeps keys apart from the entries, and forgets a key with its entry", () => {
    const db = open(8);
    db.prepare(insertRemote).run("remote", "Team server", "https://gpu.example/v1", "billa");
    db.prepare("INSERT INTO model_api_keys (model_id, api_key) VALUES ('remote', 'sk-secret')").run();
    expect(JSON.stringify(db.prepare("SELECT * FROM models").all())).not.toContain("sk-secret");
    expect(() => db.prepare("INSERT INTO model_api_keys (model_id, api_key) VALUES ('nothing', 'k')").run()).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM models WHERE id = 'remote'").run();
    expect(db.prepare("SELECT COUNT(*) FROM model_api_keys").pluck().get()).toBe(0);
    db.close();
  });

  it("upgrades a version 7 database: its GGUFs become local entries with everything they had", () => {
    const db = open(7);
    db.prepare("INSERT INTO models (id, name, path, location, is_default, is_billa, architecture, size_bytes, modified_ms, chat_template, added_at, prompt_format) VALUES ('a', 'A', '/a.gguf', 'external', 1, 1, 'llama', 10, 20, 'tpl', 'then', 'model')").run();
    db.prepare("INSERT INTO models (id, name, path, location, size_bytes, modified_ms, added_at) VALUES ('b', 'B', '/b.gguf', 'library', 5, 6, 'later')").run();
    const before = db.prepare("SELECT * FROM models ORDER BY id").all() as Record<string, unknown>[];
    migrate(db, upTo(8));
    const after = db.prepare("SELECT * FROM models ORDER BY id").all() as Record<string, unknown>[];
    expect(after).toEqual(before.map((row) => ({ ...row, kind: "local", base_url: null, remote_model: null })));
    expect(() => db.prepare(insertLocal).run("c", "C", "/b.gguf", 0)).toThrow(/UNIQUE/);
    db.close();
  });

  it("keeps the rows that refer to the rebuilt table: quality results stay with their models", () => {
    const db = open(7);
    db.prepare(insertLocal).run("a", "A", "/a.gguf", 1);
    db.prepare(
      "INSERT INTO quality_results (model_id, text_id, text_name, text_sha256, context_size, app_version, measured_at, measurement) VALUES ('a', 'builtin:zh', 'zh', 'abc', 512, '0.1.0', 'now', '{}')",
    ).run();
    migrate(db, upTo(8));
    expect(db.prepare("SELECT model_id FROM quality_results").pluck().all()).toEqual(["a"]);
    expect(db.pragma("foreign_key_check")).toEqual([]);
    // The reference still holds: a result goes with its model.
    db.prepare("DELETE FROM models WHERE id = 'a'").run();
    expect(db.prepare("SELECT COUNT(*) FROM quality_results").pluck().get()).toBe(0);
    db.close();
  });
});
