// `billa quality` and `billa compare` as a user runs them, on llama.cpp's own conversions of the demo model.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { QualityReport } from "../../src-main/contract/api.js";
import { BILLA } from "../support/billa-cli.js";
import { golden, llamaCppGguf } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-cli-quality-");
afterAll(() => temp.remove());

function billa(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BILLA, "--data-dir", join(temp.path, "data"), ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("billa quality and billa compare", () => {
  it("measures two files against a base, says the memory first, and prints a table or JSON", async () => {
    const flags = ["--model-path", llamaCppGguf("q4_k_m"), "--model-path", llamaCppGguf("q8_0"), "--base", llamaCppGguf("f16"), "--text", "en", "--context-size", "256", "--chunks", "3"];
    const json = await billa("quality", ...flags, "--json");
    expect(json.code, json.stderr).toBe(0);
    expect(json.stderr).toMatch(/Memory needed, one model at a time \([\d.]+ GiB free now\):\n {2}BiLLa demo \(Q4_K_M\): about \d+ MiB of memory/);
    expect(json.stderr).toContain("base BiLLa demo (F16): about");
    const report = JSON.parse(json.stdout) as QualityReport;
    expect(report.measurements.map((m) => [m.fileType, m.text.id, m.result.tokensScored])).toEqual([
      ["Q4_K_M", "builtin:en", 3 * 127],
      ["Q8_0", "builtin:en", 3 * 127],
    ]);
    expect(report.measurements[0]!.drift!.meanKld).toBeGreaterThan(report.measurements[1]!.drift!.meanKld);

    // The base's logits are cached now: the table comes without loading it again.
    const text = await billa("quality", ...flags);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain("its logits are cached, it is not loaded");
    const lines = text.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^model +type +text +context +scored +perplexity +KL divergence +same top +RMS Δp$/);
    expect(lines[1]).toMatch(new RegExp(`^BiLLa demo +Q4_K_M +English \\(en\\) +256 +381 +${report.measurements[0]!.result.perplexity.toFixed(2)} ± `));
  }, 120_000);

  it("refuses a file that is not a GGUF and an empty text with a clear message", async () => {
    const notes = join(temp.path, "notes.gguf");
    writeFileSync(notes, "hello");
    const bad = await billa("quality", "--model-path", notes);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`billa: notes.gguf is not a GGUF model file llama.cpp can read. Choose a .gguf file (convert BiLLa's weights first if you have none).\n`);
    const empty = join(temp.path, "empty.txt");
    writeFileSync(empty, "");
    const none = await billa("quality", "--model-path", llamaCppGguf("q8_0"), "--text", empty);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("empty.txt is empty. Choose a text of a few thousand words.");
  }, 60_000);

  it("answers a question file with two models side by side, in BiLLa's answer-file fields plus the model", async () => {
    const cases = golden.cases.filter((c) => c.turns.length === 1).slice(0, 2);
    const questions = join(temp.path, "questions.jsonl");
    writeFileSync(questions, cases.map((c, i) => JSON.stringify({ question_id: i + 1, text: c.turns[0]!.question })).join("\n"));
    const out = join(temp.path, "answers.jsonl");
    const run = await billa("compare", "--model-path", llamaCppGguf("f16"), "--model-path", llamaCppGguf("q4_k_m"), "--question-file", questions, "--out", out, "--max-new-tokens", "64");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("[4/4] billa-demo-q4_k_m.gguf answered question 2");
    const answers = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question_id: number; text: string; model: { file_type: string } });
    expect(answers.map((a) => [a.question_id, a.model.file_type])).toEqual([
      [1, "F16"],
      [1, "Q4_K_M"],
      [2, "F16"],
      [2, "Q4_K_M"],
    ]);
    expect(answers[0]!.text).toBe(cases[0]!.greedy_text.trim());
    const md = join(temp.path, "answers.md");
    expect((await billa("compare", "--model-path", llamaCppGguf("f16"), "--model-path", llamaCppGguf("q8_0"), "--question-file", questions, "--out", md, "--max-new-tokens", "16")).code).toBe(0);
    expect(readFileSync(md, "utf8")).toContain("## Assistant (BiLLa demo)");
  }, 120_000);
});
