// BiLLa as really released (a float32 embedding among float16 weights), and the same files saved again by users
// in other dtypes and layouts. Every expected byte comes from torch: make-demo-model.py cast the released
// embedding and the original to F32, F16 and BF16 and recorded what BiLLa's decrypt gives for every pair.
import { createHash } from "node:crypto";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutputTypeName } from "../../src-main/contract/api.js";
import { floatsFrom, halvesFrom } from "../../src-main/services/conversion/float16.js";
import { readSafetensors } from "../../src-main/services/conversion/safetensors/safetensors-reader.js";
import { SafetensorsWriter } from "../../src-main/services/conversion/safetensors/safetensors-writer.js";
import { readTensorBytes, type TensorLocation } from "../../src-main/services/conversion/tensor.js";
import { readTorchCheckpoint } from "../../src-main/services/conversion/torch/torch-checkpoint.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { DEMO, golden, reportOf, runJob } from "../support/demo.js";
import { readGgufTensors } from "../support/gguf-tensors.js";
import { goldenMatches } from "../support/greedy.js";
import { makeTempDir } from "../support/temp-dir.js";
import { writeTorchSave, type TorchDType } from "../support/torch-save-writer.js";

type Variant = (typeof golden.restore_variants)[number];

const temp = makeTempDir("billa-dtypes-");
let services: Services;
const EMBEDDING = "model.embed_tokens.weight";
const EMBEDDING_SHARD = "pytorch_model-3-of-3.bin";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** float32 → bfloat16, rounding to nearest even as torch's `.to(torch.bfloat16)` does. */
function bfloat16sFrom(values: Float32Array): Buffer {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    out.writeUInt16LE(Number.isNaN(values[i]) ? 0x7fc0 : (word + 0x7fff + ((word >>> 16) & 1)) >>> 16, i * 2);
  }
  return out;
}

function cast(values: Float32Array, dtype: TorchDType): Buffer {
  if (dtype === "F32") return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return dtype === "F16" ? halvesFrom(values) : bfloat16sFrom(values);
}

async function tensorIn(tensors: TensorLocation[], name: string): Promise<TensorLocation & { bytes: Buffer }> {
  const tensor = tensors.find((candidate) => candidate.name === name);
  if (!tensor) throw new Error(`${name} not found`);
  return { ...tensor, bytes: await readTensorBytes(tensor) };
}

let releasedValues: Float32Array;
let originalValues: Float32Array;
let embeddingShape: number[];
let originalShape: number[];

beforeAll(async () => {
  services = createServices({ dataDir: join(temp.path, "data"), transport: "cli" });
  const released = await tensorIn(await readTorchCheckpoint(join(DEMO.released, EMBEDDING_SHARD)), EMBEDDING);
  const original = await tensorIn(await readTorchCheckpoint(DEMO.originalPth), "tok_embeddings.weight");
  expect([released.dtype, original.dtype]).toEqual(["F32", "F16"]);
  releasedValues = floatsFrom(released.bytes, "F32");
  originalValues = floatsFrom(original.bytes, "F16");
  embeddingShape = released.shape;
  originalShape = original.shape;
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
});

/** The demo release with its embedding cast to `dtype` (a user who saved it again), in a folder of its own. */
async function releaseWithEmbedding(dtype: TorchDType, name: string): Promise<string> {
  const dir = join(temp.path, name);
  cpSync(DEMO.released, dir, { recursive: true });
  const bytes = cast(releasedValues, dtype);
  rmSync(join(dir, EMBEDDING_SHARD));
  await writeTorchSave(join(dir, EMBEDDING_SHARD), [{ name: EMBEDDING, dtype, shape: embeddingShape, fill: filler(bytes) }]);
  return dir;
}

/** The torch.save writer asks for a tensor's bytes piece after piece, in order. */
function filler(bytes: Buffer): (into: Buffer) => void {
  let offset = 0;
  return (into) => {
    offset += bytes.copy(into, 0, offset, offset + into.length);
  };
}

type OriginalLayout = "meta-pth" | "hf-safetensors-folder" | "hf-torch-index-file";

/**
 * The original LLaMA embedding cast to `dtype`, in one of the layouts people have it in: Meta's
 * consolidated.00.pth, or a Hugging Face LLaMA folder in two shards with an index, where the shard without the
 * embedding is not even a readable file, so a reader that opened more than it needs would fail.
 */
async function originalIn(layout: OriginalLayout, dtype: TorchDType, name: string): Promise<string> {
  const dir = join(temp.path, name);
  await mkdir(dir);
  const bytes = cast(originalValues, dtype);
  const fill = filler(bytes);
  if (layout === "meta-pth") {
    await writeTorchSave(join(dir, "consolidated.00.pth"), [{ name: "tok_embeddings.weight", dtype, shape: originalShape, fill }]);
    return join(dir, "consolidated.00.pth");
  }
  const torch = layout === "hf-torch-index-file";
  const [first, second] = torch ? ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"] : ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  if (torch) {
    await writeTorchSave(join(dir, first), [{ name: EMBEDDING, dtype, shape: originalShape, fill }]);
  } else {
    const file = await open(join(dir, first), "w");
    const writer = await SafetensorsWriter.start(file, [{ name: EMBEDDING, dtype, shape: originalShape }], { format: "pt" });
    await writer.write(bytes);
    await file.close();
  }
  writeFileSync(join(dir, second), "not a weights file: restoring must never open it");
  const index = torch ? "pytorch_model.bin.index.json" : "model.safetensors.index.json";
  writeFileSync(join(dir, index), JSON.stringify({ metadata: {}, weight_map: { [EMBEDDING]: first, "model.layers.0.self_attn.q_proj.weight": second, "lm_head.weight": second } }));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ architectures: ["LlamaForCausalLM"], hidden_size: originalShape[1], vocab_size: originalShape[0] }));
  return torch ? join(dir, index) : dir;
}

const LAYOUTS: OriginalLayout[] = ["meta-pth", "hf-safetensors-folder", "hf-torch-index-file"];

describe("restoring, for every dtype of the released embedding and of the original", () => {
  it.each(golden.restore_variants.map((variant, i) => [`${variant.released_dtype} release, ${variant.original_dtype} original, ${LAYOUTS[i % 3]}`, variant, i] as const))(
    "%s: the restored embedding is byte for byte torch's float16((released − original) in float32)",
    async (_, variant: Variant, i: number) => {
      // The inputs are torch's own casts: this test's float16 and bfloat16 rounding agree with torch's.
      expect(sha256(cast(releasedValues, variant.released_dtype)), "released cast").toBe(variant.released_sha256);
      expect(sha256(cast(originalValues, variant.original_dtype)), "original cast").toBe(variant.original_sha256);

      const modelDir = await releaseWithEmbedding(variant.released_dtype, `release-${i}`);
      const originalLlama = await originalIn(LAYOUTS[i % 3]!, variant.original_dtype, `original-${i}`);
      const outDir = join(temp.path, `restored-${i}`);
      const report = reportOf((await runJob(services.api, "conversion.restore", { modelDir, originalLlama, outDir })).outcome);

      const restored = await readSafetensors(join(outDir, "model.safetensors"));
      const embedding = await tensorIn(restored, EMBEDDING);
      expect(embedding.dtype).toBe("F16");
      expect(sha256(embedding.bytes)).toBe(variant.restored_f16_sha256);
      // The checksum is taken where BiLLa takes it: in float32, before rounding to float16.
      expect(report.restoredEmbeddingSum).toBeCloseTo(variant.restored_prehalf_sum_f64, 6);
      // Everything but the embedding is copied through unchanged.
      const reference = await readSafetensors(join(DEMO.restored, "model.safetensors"));
      for (const tensor of reference.filter((t) => t.name !== EMBEDDING)) {
        expect((await tensorIn(restored, tensor.name)).bytes.equals(await readTensorBytes(tensor)), tensor.name).toBe(true);
      }
    },
  );

  it("the committed F32 release restores to the committed restored checkpoint (torch's decrypt)", async () => {
    const variant = golden.restore_variants.find((v) => v.released_dtype === "F32" && v.original_dtype === "F16")!;
    const reference = await tensorIn(await readSafetensors(join(DEMO.restored, "model.safetensors")), EMBEDDING);
    expect(sha256(reference.bytes)).toBe(variant.restored_f16_sha256);
  });

  it("encrypt makes BiLLa's release again: a float32 embedding equal to the published form", async () => {
    const outDir = join(temp.path, "encrypted");
    reportOf((await runJob(services.api, "conversion.restore", { modelDir: DEMO.restored, originalLlama: DEMO.originalPth, outDir, method: "encrypt" })).outcome);
    const encrypted = await tensorIn(await readSafetensors(join(outDir, "model.safetensors")), EMBEDDING);
    expect(encrypted.dtype).toBe("F32");
    expect(encrypted.bytes.equals(cast(releasedValues, "F32"))).toBe(true);
  });
});

describe("converting releases in other dtypes", () => {
  it.each(["F16", "BF16"] as const)("a %s embedding and original: the golden answers hold through F16, Q8_0 and Q4_K_M", async (dtype) => {
    const modelDir = await releaseWithEmbedding(dtype, `convert-${dtype}`);
    const originalLlama = await originalIn("hf-safetensors-folder", dtype, `convert-original-${dtype}`);
    for (const outType of ["f16", "q8_0", "q4_k_m"] as const) {
      const outFile = join(temp.path, `${dtype}-${outType}.gguf`);
      reportOf((await runJob(services.api, "conversion.start", { modelDir, originalLlama, outFile, outType, name: "BiLLa demo" })).outcome);
      expect(await goldenMatches(outFile), `${dtype} → ${outType}`).toEqual(golden.cases.map((c) => c.id));
    }
  });
});

describe("checkpoints saved again with every weight in F32 or BF16", () => {
  /** The restored demo with every tensor cast to `dtype`, as `model.to(dtype).save_pretrained()` writes it. */
  async function restoredAs(dtype: "F32" | "BF16"): Promise<string> {
    const dir = join(temp.path, `restored-${dtype}`);
    cpSync(DEMO.restored, dir, { recursive: true });
    const tensors = await readSafetensors(join(DEMO.restored, "model.safetensors"));
    const file = await open(join(dir, "model.safetensors"), "w");
    const writer = await SafetensorsWriter.start(file, tensors.map((t) => ({ name: t.name, dtype, shape: t.shape })), { format: "pt" });
    for (const tensor of tensors) await writer.write(cast(floatsFrom(await readTensorBytes(tensor), "F16"), dtype));
    await file.close();
    return dir;
  }

  const ALL_TYPES: OutputTypeName[] = ["f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"];

  it("F32 weights give byte for byte the GGUF of the F16 original, for every output type", async () => {
    const dir = await restoredAs("F32");
    for (const outType of ALL_TYPES) {
      const fromF32 = join(temp.path, `from-f32-${outType}.gguf`);
      const fromF16 = join(temp.path, `from-f16-${outType}.gguf`);
      reportOf((await runJob(services.api, "conversion.start", { modelDir: dir, outFile: fromF32, outType, name: "BiLLa demo" })).outcome);
      reportOf((await runJob(services.api, "conversion.start", { modelDir: DEMO.restored, outFile: fromF16, outType, name: "BiLLa demo" })).outcome);
      expect(readFileSync(fromF32).equals(readFileSync(fromF16)), outType).toBe(true);
    }
  });

  it("BF16 weights are stored as they are in a BF16 GGUF, and answer the golden prompts in F16", async () => {
    const dir = await restoredAs("BF16");
    const bf16 = join(temp.path, "from-bf16-bf16.gguf");
    reportOf((await runJob(services.api, "conversion.start", { modelDir: dir, outFile: bf16, outType: "bf16", name: "BiLLa demo" })).outcome);
    const written = await readGgufTensors(bf16);
    const source = await readSafetensors(join(dir, "model.safetensors"));
    expect(written.get("token_embd.weight")!.type).toBe("BF16");
    expect(written.get("token_embd.weight")!.bytes.equals((await tensorIn(source, EMBEDDING)).bytes)).toBe(true);

    const f16 = join(temp.path, "from-bf16-f16.gguf");
    reportOf((await runJob(services.api, "conversion.start", { modelDir: dir, outFile: f16, outType: "f16", name: "BiLLa demo" })).outcome);
    expect(await goldenMatches(f16)).toEqual(golden.cases.map((c) => c.id));
  });

  it("model.inspect tells a restored float32 embedding from the float32 release", async () => {
    const inspect = async (path: string) => {
      const envelope = await services.api.invoke("model.inspect", { path });
      if (!envelope.ok) throw new Error(envelope.error.message);
      return (envelope.value as { metadata: Record<string, unknown> }).metadata["weights"];
    };
    expect(await inspect(join(temp.path, "restored-F32"))).toBe("restored");
    expect(await inspect(DEMO.released)).toBe("released");
  });
});
