import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);

describe("migration 003: conversations and messages", () => {
  it("applies to a fresh database: message trees, cascades with the conversation, checked values", () => {
    const db = new BetterSqlite3(":memory:");
    db.pragma("foreign_keys = ON");
    migrate(db, upTo(3));
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    db.prepare("INSERT INTO conversations (id, title, sampling, created_at, updated_at) VALUES ('c', 'T', '{}', 'now', 'now')").run();
    const message = db.prepare("INSERT INTO messages (id, conversation_id, parent_id, role, text, status, created_at, updated_at) VALUES (?, 'c', ?, ?, 'x', ?, 'now', 'now')");
    message.run("q", null, "user", "complete");
    message.run("a", "q", "assistant", "streaming");
    expect(() => message.run("b", "q", "system", "complete")).toThrow(/CHECK/);
    expect(() => message.run("b", "q", "assistant", "done")).toThrow(/CHECK/);
    expect(() => message.run("b", "nowhere", "assistant", "complete")).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare("UPDATE conversations SET sampling = 'not json'").run()).toThrow(/CHECK/);
    db.prepare("DELETE FROM conversations WHERE id = 'c'").run();
    expect(db.prepare("SELECT COUNT(*) FROM messages").pluck().get()).toBe(0);
    db.close();
  });

  it("upgrades a version 2 database, keeping its models", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(2));
    db.prepare("INSERT INTO models (id, name, path, location, size_bytes, modified_ms, added_at) VALUES ('m', 'M', '/m', 'library', 1, 1, 'now')").run();
    migrate(db, upTo(3));
    expect(db.prepare("SELECT name FROM models").pluck().get()).toBe("M");
    expect(db.prepare("SELECT COUNT(*) FROM conversations").pluck().get()).toBe(0);
    db.close();
  });
});
