// Crash safety: a child process streams answers into a history database and is killed with SIGKILL at
// random moments, again and again, on the same file. After every kill the database must be intact, every
// answer the child reported as finished must be there in full, and the answer it was writing must come
// back as "interrupted" when the app opens the database.
import { spawn } from "node:child_process";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { HistoryStore } from "../../src-main/services/history/history-store.js";
import { openDatabase } from "../../src-main/services/storage/database.js";
import { answerChunks } from "../support/crash-answers.js";
import { makeTempDir } from "../support/temp-dir.js";

const KILLS = 32;
const temp = makeTempDir("billa-crash-");
afterAll(() => temp.remove());

/**
 * Runs the writer and kills it `afterMs` after it began its answer number `answer`, so that kills land in
 * and between answers however fast this machine is at the moment; returns what it reported.
 */
function runAndKill(database: string, run: number, answer: number, afterMs: number): Promise<{ done: Map<string, number>; begun: Map<string, number> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(APP_ROOT, "test/support/history-crash-writer.ts"), database, String(run)], {
    cwd: APP_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const done = new Map<string, number>();
  const begun = new Map<string, number>();
  let buffer = "";
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const [word, id, index] = line.split(" ");
        if (word === "begin") begun.set(id!, Number(index));
        if (word === "begin" && Number(index) === answer) setTimeout(() => child.kill("SIGKILL"), afterMs);
        if (word === "done") done.set(id!, Number(index));
      }
    });
    child.once("exit", (_code, signal) => (signal === "SIGKILL" ? resolve({ done, begun }) : reject(new Error(`the writer ended by itself: ${errors}`))));
  });
}

describe("history under SIGKILL", () => {
  it(`survives ${KILLS} kills at random moments with nothing finished lost and the cut answer marked interrupted`, async () => {
    const database = join(temp.path, "history.sqlite");
    openDatabase(database).close();
    let finishedTotal = 0;
    let cutTotal = 0;
    for (let run = 0; run < KILLS; run++) {
      const { done, begun } = await runAndKill(database, run, Math.floor(Math.random() * 3), Math.floor(Math.random() * 80));

      const raw = new BetterSqlite3(database);
      expect(raw.pragma("integrity_check", { simple: true }), `run ${run}`).toBe("ok");
      raw.close();

      const db = openDatabase(database);
      new HistoryStore(db).recoverInterrupted();
      const row = db.prepare<[string], { text: string; status: string }>("SELECT text, status FROM messages WHERE id = ?");
      for (const [id, index] of done) {
        expect(row.get(id), `run ${run}, answer ${index}`).toEqual({ text: answerChunks(run, index).join(""), status: "complete" });
      }
      for (const [id, index] of begun) {
        if (done.has(id)) continue;
        const cut = row.get(id);
        const full = answerChunks(run, index).join("");
        // Killed between the insert and the report, the answer may be missing; killed between the final
        // commit and the report, it is complete; otherwise it is interrupted, holding a prefix of the answer.
        if (!cut || (cut.status === "complete" && cut.text === full)) continue;
        expect(cut.status, `run ${run}`).toBe("interrupted");
        expect(full.startsWith(cut.text), `run ${run}: a prefix of the answer`).toBe(true);
        cutTotal++;
      }
      expect(db.prepare("SELECT COUNT(*) FROM messages WHERE status = 'streaming'").pluck().get()).toBe(0);
      db.close();
      finishedTotal += done.size;
    }
    // The kills must have landed both between answers and inside them for the test to mean anything.
    expect(finishedTotal, "answers finished before a kill").toBeGreaterThan(KILLS / 2);
    expect(cutTotal, "answers cut by a kill").toBeGreaterThan(KILLS / 4);
  }, 240_000);
});
