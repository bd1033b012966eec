// What quantization costs the demo model, measured through the API as the app and the CLI do: drift ordered
// F16 ≤ Q8_0 ≤ Q4_K_M against F16, F16 against itself exactly 0, results stored with the entries, the base's
// logits cached once, cancel keeping nothing half-done, clear errors for bad files and texts, and the same
// questions answered side by side.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalModelEntry, QualityMeasurement } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { golden, llamaCppGguf } from "../support/demo.js";
import { compareAnswers, measureQuality, reportOf } from "../support/quality-jobs.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-quality-");
const files = makeTempDir("billa-quality-files-");
let services: Services;
const entries: Record<string, LocalModelEntry> = {};
/** The demo model's texts are long at its tiny vocabulary; a few chunks keep each run to seconds. */
const SHORT = { contextSize: 256, chunks: 6 } as const;

async function invoke<T>(name: string, input: unknown): Promise<T> {
  const envelope = await services.api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code });
  return envelope.value as T;
}

beforeAll(async () => {
  services = createServices({ dataDir: temp.path, transport: "cli", gpu: "cpu" });
  for (const type of ["f16", "q8_0", "q4_k_m"]) entries[type] = await invoke<LocalModelEntry>("models.import", { path: llamaCppGguf(type), mode: "register" });
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
  files.remove();
});

const byModel = (measurements: QualityMeasurement[], type: string, text = "builtin:en") => measurements.find((m) => m.modelId === entries[type]!.id && m.text.id === text)!;

describe("quality measurements on the demo model", () => {
  let first: QualityMeasurement[];

  it("says before starting what the run needs, and picks the library's F16 file as the base", async () => {
    const run = await measureQuality(services.api, { models: [{ modelId: entries["q4_k_m"]!.id }, { modelId: entries["q8_0"]!.id }, { modelId: entries["f16"]!.id }], ...SHORT });
    expect(run.plan.base).toMatchObject({ path: entries["f16"]!.path, fileType: "F16", cached: false, fit: "fits" });
    expect(run.plan.base!.ramBytes).toBeGreaterThan(entries["f16"]!.sizeBytes);
    expect(run.plan.models.map((m) => m.fileType)).toEqual(["Q4_K_M", "Q8_0", "F16"]);
    first = reportOf(run.outcome).measurements;
    // Both texts for each model, in the order asked.
    expect(first.map((m) => `${m.fileType} ${m.text.id}`)).toEqual(["Q4_K_M builtin:zh", "Q4_K_M builtin:en", "Q8_0 builtin:zh", "Q8_0 builtin:en", "F16 builtin:zh", "F16 builtin:en"]);
    // Progress went up to the total, phase by phase: the base's logits first.
    expect(run.progress[0]!.phase).toBe("base");
    expect(run.progress.at(-1)!.done).toBe(run.progress.at(-1)!.total);
    expect(run.progress.at(-1)!.total).toBe(first.reduce((sum, m) => sum + m.result.tokensScored, 0));
  });

  it("orders the drift F16 ≤ Q8_0 ≤ Q4_K_M against F16, on both texts", () => {
    for (const text of ["builtin:zh", "builtin:en"]) {
      const f16 = byModel(first, "f16", text).drift!;
      const q8 = byModel(first, "q8_0", text).drift!;
      const q4 = byModel(first, "q4_k_m", text).drift!;
      expect(f16.meanKld).toBe(0);
      expect(f16.meanKld).toBeLessThanOrEqual(q8.meanKld);
      expect(q8.meanKld).toBeLessThanOrEqual(q4.meanKld);
      expect(q8.meanKld).toBeGreaterThan(0);
      expect(q8.sameTopPercent).toBeGreaterThanOrEqual(q4.sameTopPercent);
      expect(q8.rmsDeltaPercent).toBeLessThanOrEqual(q4.rmsDeltaPercent);
      expect(q4).toMatchObject({ baseFileType: "F16", topK: 256 });
    }
    const en = byModel(first, "q4_k_m");
    // 6 chunks of 256, each scoring its second half: 6 × 127 tokens.
    expect(en.result).toMatchObject({ chunks: 6, tokensScored: 6 * 127 });
    expect(en.result.perplexity).toBeCloseTo(Math.exp(en.result.meanNll), 6);
    expect(en.result.error).toBeGreaterThan(0);
  });

  it("gives F16 against itself, evaluated again from the cached logits, a KL divergence of 0 and 100 % top-token agreement", async () => {
    const run = await measureQuality(services.api, { models: [{ modelId: entries["f16"]!.id }], base: { modelPath: entries["f16"]!.path }, ...SHORT });
    // The base was not loaded for its logits again: only the model pass ran.
    expect(run.plan.base!.cached).toBe(true);
    expect(run.progress.every((p) => p.phase === "model")).toBe(true);
    for (const m of reportOf(run.outcome).measurements) {
      expect(m.drift).toMatchObject({ meanKld: 0, sameTopPercent: 100, rmsDeltaPercent: 0 });
      expect(m.result.perplexity).toBe(byModel(first, "f16", m.text.id).result.perplexity);
    }
    expect(readdirSync(join(temp.path, "cache", "base-logits")).sort()).toHaveLength(2);
  });

  it("stores the results with each entry, with the text, context size and app version, and drops them with the entry", async () => {
    const { results } = await invoke<{ results: QualityMeasurement[] }>("quality.results", { modelIds: [entries["q4_k_m"]!.id] });
    expect(results.map((r) => r.text.id).sort()).toEqual(["builtin:en", "builtin:zh"]);
    expect(results[0]).toMatchObject({ contextSize: 256, appVersion: "0.1.0", modelPath: entries["q4_k_m"]!.path, fileType: "Q4_K_M" });
    expect(results[0]!.text.sha256).toMatch(/^[0-9a-f]{64}$/);
    const copy = await invoke<LocalModelEntry>("models.import", { path: llamaCppGguf("q6_k"), mode: "register" });
    reportOf((await measureQuality(services.api, { models: [{ modelPath: copy.path }], texts: [{ builtin: "en" }], ...SHORT })).outcome);
    expect((await invoke<{ results: QualityMeasurement[] }>("quality.results", { modelIds: [copy.id] })).results).toHaveLength(1);
    await invoke("models.delete", { id: copy.id });
    expect((await invoke<{ results: QualityMeasurement[] }>("quality.results", { modelIds: [copy.id] })).results).toHaveLength(0);
  });

  it("keeps nothing of a cancelled run: no results and no half-written cache file", async () => {
    const text = join(files.path, "cancel.txt");
    writeFileSync(text, "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。\n".repeat(300));
    const before = readdirSync(join(temp.path, "cache", "base-logits")).sort();
    const resultsBefore = (await invoke<{ results: QualityMeasurement[] }>("quality.results", {})).results.length;
    let cancelled = false;
    const run = await measureQuality(services.api, { models: [{ modelId: entries["q8_0"]!.id }], texts: [{ file: text }], contextSize: 256 }, (event, jobId) => {
      if (!cancelled && event.name === "quality.progress" && event.payload.jobId === jobId && event.payload.done > 0) {
        cancelled = true;
        void services.api.invoke("quality.cancel", { jobId });
      }
    });
    expect(run.outcome).toMatchObject({ ok: false, error: { code: "cancelled" } });
    expect(readdirSync(join(temp.path, "cache", "base-logits")).sort()).toEqual(before);
    expect((await invoke<{ results: QualityMeasurement[] }>("quality.results", {})).results).toHaveLength(resultsBefore);
  });

  it("refuses a file that is not a GGUF, and empty, non-UTF-8 or too short texts, saying what to do", async () => {
    const notGguf = join(files.path, "notes.gguf");
    writeFileSync(notGguf, "not a model");
    await expect(invoke("quality.measure", { models: [{ modelPath: notGguf }] })).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("is not a GGUF model file") });
    await expect(invoke("quality.measure", { models: [{ modelId: entries["q8_0"]!.id }], base: { modelPath: notGguf } })).rejects.toMatchObject({ code: "bad_file" });
    const empty = join(files.path, "empty.txt");
    writeFileSync(empty, " \n\n");
    await expect(invoke("quality.measure", { models: [{ modelId: entries["q8_0"]!.id }], texts: [{ file: empty }] })).rejects.toMatchObject({ code: "invalid_input", message: "empty.txt is empty. Choose a text of a few thousand words." });
    const latin1 = join(files.path, "latin1.txt");
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0xeb, 0x6c]));
    await expect(invoke("quality.measure", { models: [{ modelId: entries["q8_0"]!.id }], texts: [{ file: latin1 }] })).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("is not UTF-8 text") });
    await expect(invoke("quality.measure", { models: [{ modelId: entries["q8_0"]!.id }], texts: [{ file: join(files.path, "nothing.txt") }] })).rejects.toMatchObject({ code: "not_found" });
    const short = join(files.path, "short.txt");
    writeFileSync(short, "Just one short sentence.");
    const run = await measureQuality(services.api, { models: [{ modelId: entries["q8_0"]!.id }], base: "none", texts: [{ file: short }], contextSize: 256 });
    expect(run.outcome).toMatchObject({ ok: false, error: { code: "invalid_input", message: expect.stringContaining("needs at least 512") } });
  });

  it("refuses chats while a measurement holds the runtime, with the reason", async () => {
    let refusal: unknown = null;
    const run = await measureQuality(services.api, { models: [{ modelId: entries["q8_0"]!.id }], base: "none", texts: [{ builtin: "en" }], ...SHORT }, (event) => {
      if (refusal === null && event.name === "quality.progress") {
        refusal = "pending";
        void services.api.invoke("chat.generate", { conversationId: "c", messageId: "m", history: [], question: "Hi" }).then((envelope) => (refusal = envelope));
      }
    });
    reportOf(run.outcome);
    expect(refusal).toMatchObject({ ok: false, error: { code: "busy", message: expect.stringContaining("A quality measurement is using the model runtime") } });
  });
});

describe("answers side by side", () => {
  it("answers the same questions with two models at temperature 0, each as the model's greedy answer", async () => {
    const cases = golden.cases.filter((c) => c.turns.length === 1).slice(0, 2);
    const run = await compareAnswers(services.api, {
      models: [{ modelId: entries["f16"]!.id }, { modelId: entries["q8_0"]!.id }],
      questions: cases.map((c, index) => ({ id: index + 1, text: c.turns[0]!.question })),
      maxTokens: 64,
    });
    const comparison = reportOf(run.outcome);
    expect(comparison.models.map((m) => m.fileType)).toEqual(["F16", "Q8_0"]);
    for (const [index, c] of cases.entries()) {
      expect(comparison.questions[index]!.answers).toHaveLength(2);
      // The F16 file answers exactly as the golden greedy decoding (fp32 on the same fp16 weights).
      expect(comparison.questions[index]!.answers[0]!.text).toBe(c.greedy_text.trim());
    }
    expect(run.events.filter((event) => event.name === "quality.answer")).toHaveLength(4);

    // Exported with the conversation exports: JSON imports into the history with each model's answer as an alternative.
    const json = await invoke<{ content: string; fileName: string }>("quality.exportComparison", { comparison, format: "json" });
    expect(json.fileName).toMatch(/^billa-comparison-\d{4}-\d{2}-\d{2}\.json$/);
    expect(await invoke("history.import", { content: json.content })).toMatchObject({ conversationsAdded: 2, messagesAdded: 6 });
    const md = await invoke<{ content: string }>("quality.exportComparison", { comparison, format: "md" });
    expect(md.content).toContain(`## Assistant (${comparison.models[0]!.name})`);
    expect(md.content.split("## Assistant (").length - 1).toBe(4);
    const jsonl = (await invoke<{ content: string }>("quality.exportComparison", { comparison, format: "jsonl" })).content.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(jsonl).toHaveLength(4);
    expect(jsonl[1]).toMatchObject({ question_id: 1, model_id: comparison.models[1]!.name, model: { file_type: "Q8_0" } });
    expect(Object.keys(jsonl[0]!)).toEqual(["question_id", "text", "answer_id", "model_id", "metadata", "model"]);
  });
});
