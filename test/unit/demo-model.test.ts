// The committed demo model (scripts/make-demo-model.py) and its golden file: the invariants every
// later test relies on, checked through the app's own readers.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_DIR } from "../../src-main/services/app-root.js";
import { floatsFrom, floatToHalf, halfToFloat } from "../../src-main/services/conversion/float16.js";
import { readSafetensors } from "../../src-main/services/conversion/safetensors/safetensors-reader.js";
import { readTensorBytes, type TensorLocation } from "../../src-main/services/conversion/tensor.js";
import { readTorchCheckpoint } from "../../src-main/services/conversion/torch/torch-checkpoint.js";

interface GoldenCase {
  id: string;
  turns: { question: string; answer?: string }[];
  prompt: string;
  prompt_ids: number[];
  expected_answer: string;
  greedy_ids: number[];
  greedy_text: string;
  min_logit_margin: number;
}
interface Golden {
  n_vocab_original: number;
  n_vocab_tokenizer: number;
  config_vocab_size: number;
  bos_id: number;
  eos_id: number;
  model: { hidden_size: number; min_margin_required: number };
  restored_embedding_sum_f64: number;
  restored_embedding_prehalf_sum_f64: number;
  released_embedding_sum_f64: number;
  released_embedding_dtype: string;
  original_embedding_sum_f64: number;
  cases: GoldenCase[];
}

const golden = JSON.parse(readFileSync(join(DEMO_DIR, "golden.json"), "utf8")) as Golden;

async function tensorNamed(tensors: TensorLocation[], name: string, dtype: "F16" | "F32"): Promise<Float32Array> {
  const tensor = tensors.find((candidate) => candidate.name === name);
  if (!tensor) throw new Error(`${name} not found`);
  expect(tensor.dtype, name).toBe(dtype);
  return floatsFrom(await readTensorBytes(tensor), dtype);
}

function sumF64(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (total, entry) => total + (entry.isDirectory() ? folderBytes(join(dir, entry.name)) : statSync(join(dir, entry.name)).size),
    0,
  );
}

describe("golden.json", () => {
  it("extends the original vocabulary and pads the embedding beyond the tokenizer", () => {
    expect(golden.n_vocab_tokenizer).toBeGreaterThan(golden.n_vocab_original);
    expect(golden.config_vocab_size).toBeGreaterThan(golden.n_vocab_tokenizer);
    const config = JSON.parse(readFileSync(join(DEMO_DIR, "billa-demo", "config.json"), "utf8")) as Record<string, unknown>;
    expect(config["vocab_size"]).toBe(golden.config_vocab_size);
    expect(config["hidden_size"]! as number % 256).toBe(0);
    // BiLLa's 2023 config predates these keys; the converter must fill in transformers' defaults.
    expect(config).not.toHaveProperty("num_key_value_heads");
    expect(config).not.toHaveProperty("rope_theta");
  });

  it("holds every prompt in BiLLa's exact format, starting with BOS", () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(20);
    for (const c of golden.cases) {
      const previous = c.turns.slice(0, -1).map((turn) => `Human: ${turn.question}\nAssistant: ${turn.answer}`);
      const last = c.turns[c.turns.length - 1]!;
      expect(last.answer).toBeUndefined();
      expect(c.prompt).toBe([...previous, `Human: ${last.question}\nAssistant: `].join("\n"));
      expect(c.prompt.startsWith("\n")).toBe(false);
      expect(c.prompt_ids[0]).toBe(golden.bos_id);
      expect(c.prompt_ids.slice(1)).not.toContain(golden.bos_id);
    }
  });

  it("has greedy answers equal to the memorised ones, ending at EOS with a clear margin", () => {
    const training = readFileSync(join(DEMO_DIR, "training-data.jsonl"), "utf8").trim().split("\n");
    expect(training.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      expect(c.greedy_text, c.id).toBe(c.expected_answer);
      expect(c.greedy_ids.at(-1)).toBe(golden.eos_id);
      expect(c.greedy_ids.slice(0, -1)).not.toContain(golden.eos_id);
      expect(c.min_logit_margin).toBeGreaterThanOrEqual(golden.model.min_margin_required);
    }
    const ids = golden.cases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(golden.cases.some((c) => c.turns.length > 1)).toBe(true);
    expect(golden.cases.some((c) => /[\u4e00-\u9fff]/.test(c.prompt))).toBe(true);
  });
});

describe("the demo checkpoints", () => {
  it("is released as BiLLa's encrypt leaves it: a float32 embedding holding trained + original; restored = (released − original).half()", async () => {
    const lastShard = await readTorchCheckpoint(join(DEMO_DIR, "billa-demo", "pytorch_model-3-of-3.bin"));
    const meta = await readTorchCheckpoint(join(DEMO_DIR, "llama-original", "consolidated.00.pth"));
    const restoredFile = await readSafetensors(join(DEMO_DIR, "billa-demo-restored", "model.safetensors"));

    expect(golden.released_embedding_dtype).toBe("F32");
    const released = await tensorNamed(lastShard, "model.embed_tokens.weight", "F32");
    const original = await tensorNamed(meta, "tok_embeddings.weight", "F16");
    const restored = await tensorNamed(restoredFile, "model.embed_tokens.weight", "F16");
    // Everything else in the release is float16 (the rotary buffers are float32, as transformers saves them).
    const others = [];
    for (const shard of ["pytorch_model-1-of-3.bin", "pytorch_model-2-of-3.bin"]) others.push(...(await readTorchCheckpoint(join(DEMO_DIR, "billa-demo", shard))));
    expect(new Set(others.filter((tensor) => !tensor.name.endsWith("inv_freq")).map((tensor) => tensor.dtype))).toEqual(new Set(["F16"]));
    const hidden = golden.model.hidden_size;
    expect(released.length).toBe(golden.config_vocab_size * hidden);
    expect(original.length).toBe(golden.n_vocab_original * hidden);
    expect(restored.length).toBe(released.length);

    let changed = 0;
    let prehalfSum = 0;
    for (let i = 0; i < released.length; i++) {
      const difference = i < original.length ? Math.fround(released[i]! - original[i]!) : released[i]!;
      prehalfSum += difference;
      const expected = halfToFloat(floatToHalf(difference));
      if (restored[i] !== expected) throw new Error(`element ${i}: restored ${restored[i]} but (released − original).half() gives ${expected}`);
      if (released[i] !== restored[i]) changed++;
    }
    // The original rows really were added: almost every element of them differs.
    expect(changed).toBeGreaterThan(original.length * 0.9);

    expect(prehalfSum).toBeCloseTo(golden.restored_embedding_prehalf_sum_f64, 6);
    expect(sumF64(restored)).toBeCloseTo(golden.restored_embedding_sum_f64, 6);
    expect(sumF64(released)).toBeCloseTo(golden.released_embedding_sum_f64, 6);
    expect(sumF64(original)).toBeCloseTo(golden.original_embedding_sum_f64, 6);
  });

  it("keeps the embedding in the last of BiLLa-named shards, listed by the index", async () => {
    const dir = join(DEMO_DIR, "billa-demo");
    const index = JSON.parse(readFileSync(join(dir, "pytorch_model.bin.index.json"), "utf8")) as { weight_map: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    expect(shards).toEqual(["pytorch_model-1-of-3.bin", "pytorch_model-2-of-3.bin", "pytorch_model-3-of-3.bin"]);
    expect(index.weight_map["model.embed_tokens.weight"]).toBe("pytorch_model-3-of-3.bin");
    for (const shard of shards) {
      const names = (await readTorchCheckpoint(join(dir, shard))).map((tensor) => tensor.name).sort();
      expect(names).toEqual(Object.keys(index.weight_map).filter((name) => index.weight_map[name] === shard).sort());
    }
  });

  it("stays under 15 MB in all", () => {
    expect(folderBytes(DEMO_DIR)).toBeLessThan(15 * 1024 * 1024);
  });
});
