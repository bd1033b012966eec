import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);

describe("migration 005: settings", () => {
  it("applies to a fresh database, holding JSON values only", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(5));
    db.prepare("INSERT INTO settings (key, value) VALUES ('theme', '\"dark\"')").run();
    expect(() => db.prepare("INSERT INTO settings (key, value) VALUES ('x', 'not json')").run()).toThrow(/CHECK/);
    db.close();
  });

  it("upgrades a version 4 database", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(4));
    migrate(db, upTo(5));
    expect(db.prepare("SELECT COUNT(*) FROM settings").pluck().get()).toBe(0);
    db.close();
  });
});
