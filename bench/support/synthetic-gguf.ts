// A LLaMA GGUF with random (seeded) weights, written by the app's own converter modules (metadata, tensor mix,
// ggml quantization, GGUF writer), for speed benchmarks that need a real-sized model without downloading one.
// hidden 768, 12 layers, 12 heads, intermediate 2048, vocab 32000 gives ≈134M parameters (82 MiB as Q4_K_M, ~1 s);
// hidden 4096, 32 layers, 32 heads, intermediate 11008 is LLaMA-7B's shape (3.8 GiB, ~20 s).
// The vocabulary is the demo model's SentencePiece pieces, padded to `vocab` with unused [PADn] tokens.
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { LlamaHyperParameters } from "../../src-main/services/conversion/checkpoint/hf-config.js";
import { GgmlType, OUTPUT_TYPES, ggmlRowBytes, type OutputType } from "../../src-main/services/conversion/gguf/gguf-types.js";
import { GgufWriter, type GgufTensorEntry } from "../../src-main/services/conversion/gguf/gguf-writer.js";
import { llamaMetadata } from "../../src-main/services/conversion/gguf/llama-metadata.js";
import { llamaTensorNames } from "../../src-main/services/conversion/gguf/tensor-names.js";
import { quantizeRows } from "../../src-main/services/conversion/quantize/ggml-library.js";
import { planTensorTypes, type TensorShape } from "../../src-main/services/conversion/quantize/quant-mix.js";
import type { QuantizePool } from "../../src-main/services/conversion/quantize/quantize-pool.js";
import { readSentencePieceModel } from "../../src-main/services/conversion/tokenizer/sentencepiece-model.js";

export interface SyntheticLlamaOptions {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  vocab: number;
  outType: OutputType;
  /** Same seed, same bytes. */
  seed?: number;
  contextLength?: number;
  /** A SentencePiece model to take the first pieces of the vocabulary from; the demo model's by default. */
  tokenizerModel?: string;
  /**
   * Distinct random rows quantized per (type, row length); each tensor's rows are drawn from them (seeded), so a
   * 134M model takes about a second instead of ~25 s of Q4_K quantization. 0 quantizes every row (the file is then
   * what the converter would write for such weights). Speed is the same either way: every row is its own memory.
   */
  rowPool?: number;
  /** Quantizes on worker threads (the conversion pipeline's pool); without it, ggml runs on this thread. */
  quantizer?: Pick<QuantizePool, "quantize">;
}

export interface SyntheticLlamaFile {
  path: string;
  parameters: number;
  bytes: number;
  tensors: number;
  milliseconds: number;
}

/** Also what benchmarks call "the 134M model". */
export const SYNTHETIC_134M = { hidden: 768, layers: 12, heads: 12, intermediate: 2048, vocab: 32000 } as const;

const DEMO_TOKENIZER = fileURLToPath(new URL("../../resources/demo/billa-demo/tokenizer.model", import.meta.url));
/** transformers' LLaMA initializer_range: uniform values of this standard deviation keep activations tame. */
const WEIGHT_STD = 0.02;

/** splitmix32: a tiny seeded generator, fast enough to fill 134M floats in about a second. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 4294967296;
  };
}

/** Values uniform in ±√3·std (standard deviation `std`); norms are all ones, as a fresh LLaMA's are. */
function fillWeights(name: string, count: number, random: () => number): Float32Array {
  const values = new Float32Array(count);
  if (name.endsWith("_norm.weight")) return values.fill(1);
  const half = Math.sqrt(3) * WEIGHT_STD;
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * half;
  return values;
}

/** Each tensor's GGUF shape (innermost first), in the order the converter writes them. */
function tensorShapes({ hidden, layers, intermediate, vocab }: SyntheticLlamaOptions): TensorShape[] {
  const shapeOf = (gguf: string): number[] => {
    if (gguf === "token_embd.weight" || gguf === "output.weight") return [hidden, vocab];
    if (gguf.endsWith("_norm.weight")) return [hidden];
    if (/\.ffn_(gate|up)\.weight$/.test(gguf)) return [hidden, intermediate];
    if (gguf.endsWith(".ffn_down.weight")) return [intermediate, hidden];
    return [hidden, hidden]; // attn_q, attn_k, attn_v, attn_output
  };
  return llamaTensorNames(layers, true).map(({ gguf }) => ({ name: gguf, shape: shapeOf(gguf) }));
}

function hyperParameters(options: SyntheticLlamaOptions): LlamaHyperParameters {
  const { hidden, layers, heads, intermediate, vocab } = options;
  if (hidden % heads !== 0 || (hidden / heads) % 2 !== 0) throw new RangeError(`hidden ${hidden} does not split into ${heads} heads of an even size`);
  return {
    contextLength: options.contextLength ?? 2048,
    embeddingLength: hidden,
    feedForwardLength: intermediate,
    blockCount: layers,
    headCount: heads,
    headCountKv: heads,
    rmsNormEps: 1e-6,
    ropeFreqBase: 10000,
    ropeDimensionCount: hidden / heads,
    vocabSize: vocab,
    bosTokenId: 1,
    eosTokenId: 2,
    unkTokenId: null,
    padTokenId: null,
    tieWordEmbeddings: false,
  };
}

export async function writeSyntheticLlamaGguf(path: string, options: SyntheticLlamaOptions): Promise<SyntheticLlamaFile> {
  const started = performance.now();
  const hyper = hyperParameters(options);
  const tokenizer = await readSentencePieceModel(options.tokenizerModel ?? DEMO_TOKENIZER);
  if (tokenizer.pieces.length > options.vocab) throw new RangeError(`vocab ${options.vocab} is smaller than the tokenizer's ${tokenizer.pieces.length} pieces`);

  const shapes = tensorShapes(options);
  const types = planTensorTypes({ tensors: shapes, outputType: options.outType, layerCount: options.layers });
  const plan = shapes.map(({ name, shape }) => {
    const perRow = shape[0]!;
    const rows = shape[1] ?? 1;
    const type = types.get(name)!;
    return { name, shape, perRow, rows, type, byteLength: rows * ggmlRowBytes(type, perRow) };
  });
  const entries: GgufTensorEntry[] = plan.map(({ name, shape, type, byteLength }) => ({ name, dims: [...shape], type, byteLength }));
  const metadata = llamaMetadata({
    name: `synthetic-llama-${options.hidden}x${options.layers}`,
    hyper,
    tokenizer,
    tokenizerConfig: { add_bos_token: true, add_eos_token: false },
    addedTokens: null,
    fileType: OUTPUT_TYPES[options.outType].fileType,
    parameterCount: plan.reduce((total, { perRow, rows }) => total + perRow * rows, 0),
  });

  const random = randomSource(options.seed ?? 0x5eed);
  const quantize = async (type: GgmlType, floats: Float32Array, rows: number, perRow: number): Promise<Buffer> =>
    type === GgmlType.F32
      ? Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength)
      : options.quantizer
        ? options.quantizer.quantize({ type, source: floats, sourceType: "F32", rows, perRow })
        : quantizeRows(type, floats, rows, perRow);
  const rowPool = options.rowPool ?? 1024;
  const pools = new Map<string, Buffer>();
  const file = await open(path, "w");
  try {
    const writer = await GgufWriter.start(file, metadata, entries);
    for (const { name, perRow, rows, type, byteLength } of plan) {
      if (rowPool <= 0 || type === GgmlType.F32) {
        await writer.write(await quantize(type, fillWeights(name, perRow * rows, random), rows, perRow));
        continue;
      }
      const key = `${type}:${perRow}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = await quantize(type, fillWeights(name, perRow * rowPool, random), rowPool, perRow);
        pools.set(key, pool);
      }
      const rowBytes = byteLength / rows;
      const data = Buffer.allocUnsafe(byteLength);
      for (let row = 0; row < rows; row++) {
        const from = Math.floor(random() * rowPool) * rowBytes;
        pool.copy(data, row * rowBytes, from, from + rowBytes);
      }
      await writer.write(data);
    }
    await writer.finish();
  } finally {
    await file.close();
  }
  return {
    path,
    parameters: plan.reduce((total, { perRow, rows }) => total + perRow * rows, 0),
    bytes: GgufWriter.fileSize(metadata, entries),
    tensors: plan.length,
    milliseconds: Math.round(performance.now() - started),
  };
}
