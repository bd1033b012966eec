// The weight pipeline end to end on the demo model: BiLLa's released checkpoint + the original LLaMA
// → GGUF → node-llama-cpp, which must reproduce the torch reference's greedy answers token for token.
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { SafetensorsWriter } from "../../src-main/services/conversion/safetensors/safetensors-writer.js";
import { readSafetensors } from "../../src-main/services/conversion/safetensors/safetensors-reader.js";
import { readTensorBytes } from "../../src-main/services/conversion/tensor.js";
import { DEMO, golden, reportOf, runJob } from "../support/demo.js";
import { goldenMatches, tokenize } from "../support/greedy.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-convert-");
let services: Services;
const out = (name: string) => join(temp.path, name);

beforeAll(() => {
  services = createServices({ dataDir: join(temp.path, "data"), transport: "cli" });
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
});

/** Every conversion gets the same model name, so files from different inputs can be compared byte for byte. */
function convert(input: { modelDir: string; originalLlama?: string; outFile: string; outType: "f16" | "q8_0" | "q4_k_m" | "q6_k" | "bf16"; expectedEmbeddingSum?: number }) {
  return runJob(services.api, "conversion.start", { name: "BiLLa demo", ...input });
}

/** Output files in the folder other than the data directory: nothing half-written may stay behind. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== "data");
}

describe("released BiLLa + original LLaMA → GGUF", () => {
  it("F16: node-llama-cpp reproduces every golden answer, and tokenizes every prompt like SentencePiece", async () => {
    const { outcome, events } = await convert({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile: out("demo-f16.gguf"), outType: "f16" });
    const report = reportOf(outcome);
    expect(report.restoredEmbeddingSum).toBeCloseTo(golden.restored_embedding_sum_f64, 6);
    expect(report.warnings).toEqual([]);
    expect(events.some((event) => event.name === "conversion.progress" && event.payload.stage === "convert")).toBe(true);

    expect(await goldenMatches(out("demo-f16.gguf"))).toEqual(golden.cases.map((c) => c.id));
    const ids = await tokenize(out("demo-f16.gguf"), golden.cases.map((c) => c.prompt));
    expect(ids.map((row) => [1, ...row])).toEqual(golden.cases.map((c) => c.prompt_ids));
  });

  it("Q8_0: node-llama-cpp reproduces every golden answer", async () => {
    reportOf((await convert({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile: out("demo-q8_0.gguf"), outType: "q8_0" })).outcome);
    expect(await goldenMatches(out("demo-q8_0.gguf"))).toEqual(golden.cases.map((c) => c.id));
  });

  it("Q4_K_M: reports how many golden answers survive 4-bit quantization", async () => {
    reportOf((await convert({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile: out("demo-q4_k_m.gguf"), outType: "q4_k_m" })).outcome);
    const matches = await goldenMatches(out("demo-q4_k_m.gguf"));
    console.log(`Q4_K_M reproduces ${matches.length} of ${golden.cases.length} golden answers`);
    expect(matches.length).toBeGreaterThanOrEqual(golden.cases.length * 0.8);
  });

  it("the already-restored safetensors path gives the same GGUF bytes", async () => {
    reportOf((await convert({ modelDir: DEMO.restored, outFile: out("restored-f16.gguf"), outType: "f16" })).outcome);
    if (!existsSync(out("demo-f16.gguf"))) {
      reportOf((await convert({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile: out("demo-f16.gguf"), outType: "f16" })).outcome);
    }
    expect(readFileSync(out("restored-f16.gguf")).equals(readFileSync(out("demo-f16.gguf")))).toBe(true);
  });
});

describe("billa restore", () => {
  it("writes a restored safetensors folder equal to the reference, leaving the input untouched", async () => {
    const before = readFileSync(join(DEMO.released, "pytorch_model-3-of-3.bin"));
    const report = reportOf((await runJob(services.api, "conversion.restore", { modelDir: DEMO.released, originalLlama: DEMO.originalPth, outDir: out("restored") })).outcome);
    expect(report.outPath).toBe(out("restored"));
    expect(readFileSync(join(DEMO.released, "pytorch_model-3-of-3.bin")).equals(before)).toBe(true);
    for (const file of ["config.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "model.safetensors"]) {
      expect(existsSync(join(out("restored"), file)), file).toBe(true);
    }
    const ours = await readSafetensors(join(out("restored"), "model.safetensors"));
    const reference = await readSafetensors(join(DEMO.restored, "model.safetensors"));
    expect(ours.map((t) => t.name).sort()).toEqual(reference.map((t) => t.name).sort());
    for (const tensor of reference) {
      const mine = ours.find((t) => t.name === tensor.name)!;
      expect((await readTensorBytes(mine)).equals(await readTensorBytes(tensor)), tensor.name).toBe(true);
    }
  });
});

describe("bad input gets a clear error and leaves no output", () => {
  const failing = makeTempDir("billa-bad-");
  afterAll(() => failing.remove());

  async function expectFailure(input: Parameters<typeof convert>[0], message: RegExp, code = "bad_file") {
    const { outcome } = await convert(input);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(code);
    expect(outcome.error.message).toMatch(message);
    expect(existsSync(input.outFile)).toBe(false);
    expect(readdirSync(failing.path).filter((name) => name.includes(".partial-"))).toEqual([]);
  }

  it("a truncated shard", async () => {
    const dir = join(failing.path, "truncated");
    cpSync(DEMO.released, dir, { recursive: true });
    truncateSync(join(dir, "pytorch_model-2-of-3.bin"), 300_000);
    await expectFailure({ modelDir: dir, originalLlama: DEMO.originalPth, outFile: join(failing.path, "t.gguf"), outType: "f16" }, /pytorch_model-2-of-3\.bin.*(damaged|truncated)/);
  });

  it("a missing shard", async () => {
    const dir = join(failing.path, "missing-shard");
    cpSync(DEMO.released, dir, { recursive: true });
    rmSync(join(dir, "pytorch_model-2-of-3.bin"));
    await expectFailure({ modelDir: dir, originalLlama: DEMO.originalPth, outFile: join(failing.path, "m.gguf"), outType: "f16" }, /pytorch_model-2-of-3\.bin is missing/);
  });

  it("a missing tokenizer", async () => {
    const dir = join(failing.path, "no-tokenizer");
    cpSync(DEMO.released, dir, { recursive: true });
    rmSync(join(dir, "tokenizer.model"));
    await expectFailure({ modelDir: dir, originalLlama: DEMO.originalPth, outFile: join(failing.path, "n.gguf"), outType: "f16" }, /no tokenizer\.model/);
  });

  it("a LLaMA file of the wrong shape", async () => {
    const wrong = join(failing.path, "wrong-llama.safetensors");
    const file = await open(wrong, "w");
    const writer = await SafetensorsWriter.start(file, [{ name: "tok_embeddings.weight", dtype: "F16", shape: [golden.n_vocab_original, 128] }]);
    await writer.write(Buffer.alloc(golden.n_vocab_original * 128 * 2));
    await file.close();
    await expectFailure({ modelDir: DEMO.released, originalLlama: wrong, outFile: join(failing.path, "w.gguf"), outType: "f16" }, /128 columns but BiLLa's has 256/);
  });

  it("the wrong LLaMA file (a checksum that does not match) is caught before writing", async () => {
    await expectFailure(
      { modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile: join(failing.path, "c.gguf"), outType: "f16", expectedEmbeddingSum: golden.restored_embedding_sum_f64 + 50 },
      /checksum/,
    );
  });

  it("cancelling mid-run", async () => {
    const outFile = join(failing.path, "cancelled.gguf");
    let cancelled = false;
    const { outcome } = await runJob(services.api, "conversion.start", { modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile, outType: "q8_0" }, (event, jobId) => {
      if (!cancelled && event.name === "conversion.progress" && event.payload.stage === "convert") {
        cancelled = true;
        void services.api.invoke("conversion.cancel", { jobId });
      }
    });
    expect(cancelled).toBe(true);
    expect(outcome).toMatchObject({ ok: false, error: { code: "cancelled" } });
    expect(existsSync(outFile)).toBe(false);
    expect(readdirSync(failing.path).filter((name) => name.includes(".partial-"))).toEqual([]);
  });

  it("an output that already exists is not overwritten", async () => {
    const outFile = join(failing.path, "exists.gguf");
    copyFileSync(join(DEMO.released, "config.json"), outFile);
    const { outcome } = await convert({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, outFile, outType: "f16" });
    expect(outcome).toMatchObject({ ok: false, error: { code: "bad_file", message: expect.stringContaining("already exists") } });
    expect(readFileSync(outFile, "utf8")).toContain("vocab_size");
  });
});

describe("inspecting a model folder before converting it", () => {
  const inspect = async (path: string) => {
    const envelope = await services.api.invoke("model.inspect", { path });
    if (!envelope.ok) throw new Error(envelope.error.message);
    return (envelope.value as { metadata: Record<string, unknown> }).metadata;
  };

  it("tells released weights from restored ones, and says what is missing", async () => {
    expect(await inspect(DEMO.released)).toMatchObject({ format: "torch", files: 3, tokenizer: true, weights: "released", "config.vocab_size": 960 });
    expect(await inspect(DEMO.restored)).toMatchObject({ format: "safetensors", tokenizer: true, weights: "restored" });
    const dir = join(temp.path, "inspect-no-tokenizer");
    cpSync(DEMO.released, dir, { recursive: true });
    rmSync(join(dir, "tokenizer.model"));
    expect(await inspect(dir)).toMatchObject({ tokenizer: false, problem: expect.stringMatching(/no tokenizer\.model/) });
  });
});

describe("warnings", () => {
  it("an unrestored checkpoint converted without the LLaMA file", async () => {
    const { outcome } = await convert({ modelDir: DEMO.released, outFile: out("unrestored.gguf"), outType: "f16" });
    expect(reportOf(outcome).warnings.join(" ")).toMatch(/looks unrestored/);
  });

  it("an already restored checkpoint given the LLaMA file again", async () => {
    const { outcome } = await convert({ modelDir: DEMO.restored, originalLlama: DEMO.originalPth, outFile: out("twice.gguf"), outType: "f16" });
    expect(reportOf(outcome).warnings.join(" ")).toMatch(/already restored/);
  });
});

it("leaves only finished files in the output folder", () => {
  expect(leftovers(temp.path).every((name) => !name.includes(".partial-"))).toBe(true);
});
