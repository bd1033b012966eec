// A synthetic BiLLa in its RELEASED layout, LLaMA-shaped but smaller than 7B, and the "original LLaMA" file its
// embedding is restored with. Values are seeded pseudo-random float16 of a plausible scale (normal, std 0.02),
// made fast: a table of 65,536 float16 samples, indexed by a xorshift32 stream, two values per step.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { floatToHalf, halfToFloat } from "../../src-main/services/conversion/float16.js";
import { elementCount, writeTorchSave, type TensorPlacement, type TorchTensor } from "../../test/support/torch-save-writer.js";

export interface BenchShape {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  vocab: number;
  /** Rows of the original LLaMA embedding, which BiLLa's release adds onto its first rows. */
  originalRows: number;
}

/**
 * 603 M values, ~1.4 GB (float16, and the 96 M-value embedding float32). BiLLa's real vocabulary and LLaMA's 32,000 original rows; hidden size, layers and
 * heads halved or quartered from 7B. intermediate is 2.75 × hidden rounded to 256 like 7B's 11008 (= 43 × 256), so
 * ffn_down rows fill whole 256-value k-quant blocks as in the real model (5504 would drop them to Q5_0/Q8_0).
 */
export const BENCH_SHAPE: BenchShape = { hidden: 2048, layers: 8, heads: 16, intermediate: 5632, vocab: 46943, originalRows: 32000 };

/** Standard deviation of the weights, as LLaMA's initializer_range and close to its trained matrices. */
const WEIGHT_STD = 0.02;
const TABLE_SIZE = 0x1_0000;

/** xorshift32: not for anything but filling weights, where it is fast and good enough. */
class Xorshift32 {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let s = this.#state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.#state = s >>> 0;
    return this.#state;
  }
}

/** 65,536 float16 bit patterns drawn from N(0, std²) with Box–Muller: a random index picks a normal sample. */
function normalHalfTable(std: number, seed: number): Uint16Array {
  const random = new Xorshift32(seed);
  const uniform = () => (random.next() + 0.5) / 2 ** 32;
  const table = new Uint16Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform())) * std;
    const angle = 2 * Math.PI * uniform();
    table[i] = floatToHalf(radius * Math.cos(angle));
    table[i + 1] = floatToHalf(radius * Math.sin(angle));
  }
  return table;
}

const NORMAL_HALVES = normalHalfTable(WEIGHT_STD, 0x5eed);
const HALF_TO_FLOAT = Float32Array.from({ length: TABLE_SIZE }, (_, bits) => halfToFloat(bits));

/** An endless seeded stream of N(0, 0.02²) float16 values, handed out in order. */
class HalfStream {
  #random: Xorshift32;
  /** The high half of the last random word when a fill ended on an odd count. */
  #spare: number | undefined;

  constructor(seed: number) {
    this.#random = new Xorshift32(seed);
  }

  fill(into: Uint16Array): void {
    let i = 0;
    if (this.#spare !== undefined && into.length > 0) {
      into[i++] = this.#spare;
      this.#spare = undefined;
    }
    const random = this.#random;
    const table = NORMAL_HALVES;
    for (; i + 1 < into.length; i += 2) {
      const word = random.next();
      into[i] = table[word & 0xffff]!;
      into[i + 1] = table[word >>> 16]!;
    }
    if (i < into.length) {
      const word = random.next();
      into[i] = table[word & 0xffff]!;
      this.#spare = table[word >>> 16]!;
    }
  }
}

const halves = (bytes: Buffer) => new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);

function randomTensor(name: string, shape: number[], seed: number): TorchTensor {
  const stream = new HalfStream(seed);
  return { name, dtype: "F16", shape, fill: (into) => stream.fill(halves(into)) };
}

/** RMSNorm weights: around 1, as trained LLaMA's are (the table's samples shifted by one). */
function normTensor(name: string, size: number, seed: number): TorchTensor {
  const stream = new HalfStream(seed);
  return {
    name,
    dtype: "F16",
    shape: [size],
    fill: (into) => {
      const values = halves(into);
      stream.fill(values);
      for (let i = 0; i < values.length; i++) values[i] = floatToHalf(1 + HALF_TO_FLOAT[values[i]!]!);
    },
  };
}

/** transformers 4.28 saved each layer's rotary inv_freq buffer (float32); BiLLa's shards hold them, converters skip them. */
function invFreqTensor(name: string, headSize: number): TorchTensor {
  const values = Float32Array.from({ length: headSize / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / headSize));
  return {
    name,
    dtype: "F32",
    shape: [headSize / 2],
    fill: (into) => into.set(new Uint8Array(values.buffer)),
  };
}

const ORIGINAL_EMBEDDING_SEED = 7;
const TRAINED_EMBEDDING_SEED = 8;

/**
 * The released embedding as BiLLa's embedding_convert.py `encrypt` saves it: the trained rows as float32, with
 * LLaMA's original row added on the first `originalRows` rows, and no `.half()` (so it is twice the size of the
 * float16 rows around it). (Here "trained" is an independent draw, not LLaMA plus an update, so released rows are
 * √2, not 2, times the trained scale: still above the pipeline's 1.3 threshold for "released".)
 */
function releasedEmbedding(shape: BenchShape): TorchTensor {
  const trained = new HalfStream(TRAINED_EMBEDDING_SEED);
  const original = new HalfStream(ORIGINAL_EMBEDDING_SEED);
  const encryptedValues = shape.originalRows * shape.hidden;
  let done = 0;
  let scratch = new Uint16Array(0);
  return {
    name: "model.embed_tokens.weight",
    dtype: "F32",
    shape: [shape.vocab, shape.hidden],
    fill: (into) => {
      const values = new Float32Array(into.buffer, into.byteOffset, into.length / 4);
      if (scratch.length < values.length) scratch = new Uint16Array(values.length);
      const drawn = scratch.subarray(0, values.length);
      trained.fill(drawn);
      for (let i = 0; i < values.length; i++) values[i] = HALF_TO_FLOAT[drawn[i]!]!;
      const overlap = Math.max(0, Math.min(values.length, encryptedValues - done));
      if (overlap > 0) {
        const originals = drawn.subarray(0, overlap);
        original.fill(originals);
        // A Float32Array store rounds to float32, as torch's float32 addition does.
        for (let i = 0; i < overlap; i++) values[i] = values[i]! + HALF_TO_FLOAT[originals[i]!]!;
      }
      done += values.length;
    },
  };
}

/** Meta's tok_embeddings.weight: the same stream the released embedding added. */
function originalEmbedding(shape: BenchShape): TorchTensor {
  return randomTensor("tok_embeddings.weight", [shape.originalRows, shape.hidden], ORIGINAL_EMBEDDING_SEED);
}

function layerTensors(shape: BenchShape, layer: number): TorchTensor[] {
  const { hidden, intermediate } = shape;
  const prefix = `model.layers.${layer}`;
  const seed = 1000 + layer * 16;
  return [
    randomTensor(`${prefix}.self_attn.q_proj.weight`, [hidden, hidden], seed),
    randomTensor(`${prefix}.self_attn.k_proj.weight`, [hidden, hidden], seed + 1),
    randomTensor(`${prefix}.self_attn.v_proj.weight`, [hidden, hidden], seed + 2),
    randomTensor(`${prefix}.self_attn.o_proj.weight`, [hidden, hidden], seed + 3),
    invFreqTensor(`${prefix}.self_attn.rotary_emb.inv_freq`, hidden / shape.heads),
    randomTensor(`${prefix}.mlp.gate_proj.weight`, [intermediate, hidden], seed + 4),
    randomTensor(`${prefix}.mlp.down_proj.weight`, [hidden, intermediate], seed + 5),
    randomTensor(`${prefix}.mlp.up_proj.weight`, [intermediate, hidden], seed + 6),
    normTensor(`${prefix}.input_layernorm.weight`, hidden, seed + 7),
    normTensor(`${prefix}.post_attention_layernorm.weight`, hidden, seed + 8),
  ];
}

/**
 * BiLLa's shards in order: layers split evenly over all shards but the last two parts, then the final norm and
 * lm_head, and the embedding alone in the last shard (as the release, and our demo model, have it).
 */
function shardContents(shape: BenchShape, shardCount: number): TorchTensor[][] {
  const layerShards = shardCount - 1;
  const perShard = Math.ceil(shape.layers / layerShards);
  const shards: TorchTensor[][] = Array.from({ length: layerShards }, (_, shard) =>
    Array.from({ length: Math.max(0, Math.min(perShard, shape.layers - shard * perShard)) }, (_, i) => layerTensors(shape, shard * perShard + i)).flat(),
  );
  shards[layerShards - 1]!.push(normTensor("model.norm.weight", shape.hidden, 99), randomTensor("lm_head.weight", [shape.vocab, shape.hidden], 100));
  shards.push([releasedEmbedding(shape)]);
  return shards;
}

/** BiLLa-7B-SFT's config.json with our sizes: transformers 4.28 style, no num_key_value_heads and no rope_theta. */
function billaConfig(shape: BenchShape): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: "silu",
    hidden_size: shape.hidden,
    initializer_range: 0.02,
    intermediate_size: shape.intermediate,
    max_position_embeddings: 2048,
    model_type: "llama",
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    pad_token_id: 0,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
    torch_dtype: "float16",
    transformers_version: "4.28.0.dev0",
    use_cache: true,
    vocab_size: shape.vocab,
  };
}

export interface SyntheticCheckpoint {
  modelDir: string;
  shardFiles: string[];
  /** Meta's consolidated.00.pth stand-in. */
  originalFile: string;
  /** Where tok_embeddings.weight's bytes are in `originalFile`. */
  originalEmbedding: TensorPlacement;
  /** Bytes of tensor data in the shards (float16, and the float32 embedding and rotary buffers). */
  tensorBytes: number;
  largestTensor: { name: string; bytes: number };
  /** GGUF tensors a conversion writes: embedding, 9 per layer, output norm, output. */
  ggufTensorCount: number;
}

/**
 * Writes `<dir>/billa-bench/` (shards, index, config, BiLLa's tokenizer files from the demo model) and
 * `<dir>/llama-original/consolidated.00.pth`. `tokenizerDir` holds tokenizer.model and its JSON companions; a
 * tokenizer smaller than the vocabulary is fine (GGUF pads it, as for BiLLa's own 46943 vs. its pieces).
 */
export async function writeSyntheticCheckpoint(
  dir: string,
  options: { shape?: BenchShape; shardCount?: number; tokenizerDir: string; onFile?: (file: string, bytes: number, seconds: number) => void },
): Promise<SyntheticCheckpoint> {
  const shape = options.shape ?? BENCH_SHAPE;
  const shardCount = options.shardCount ?? 4;
  if (shardCount < 2) throw new RangeError("BiLLa's layout needs at least two shards: the layers, and the embedding last");
  const modelDir = join(dir, "billa-bench");
  const originalDir = join(dir, "llama-original");
  await mkdir(modelDir);
  await mkdir(originalDir);

  const weightMap: Record<string, string> = {};
  const shardFiles: string[] = [];
  let tensorBytes = 0;
  let largestTensor = { name: "", bytes: 0 };
  const timed = async (file: string, tensors: TorchTensor[]) => {
    const started = performance.now();
    const written = await writeTorchSave(file, tensors);
    options.onFile?.(file, written.fileBytes, (performance.now() - started) / 1000);
    return written;
  };
  for (const [index, tensors] of shardContents(shape, shardCount).entries()) {
    const name = `pytorch_model-${index + 1}-of-${shardCount}.bin`;
    const { placements } = await timed(join(modelDir, name), tensors);
    for (const placement of placements) {
      weightMap[placement.name] = name;
      tensorBytes += placement.byteLength;
      if (placement.byteLength > largestTensor.bytes) largestTensor = { name: placement.name, bytes: placement.byteLength };
    }
    shardFiles.push(join(modelDir, name));
  }
  const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFile(join(modelDir, "pytorch_model.bin.index.json"), `${JSON.stringify({ metadata: { total_size: tensorBytes }, weight_map: sortedMap }, null, 2)}\n`);
  await writeFile(join(modelDir, "config.json"), `${JSON.stringify(billaConfig(shape), null, 2)}\n`);
  for (const file of ["tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]) {
    await copyFile(join(options.tokenizerDir, file), join(modelDir, file));
  }

  // Meta's consolidated.00.pth holds every LLaMA-7B weight under Meta's names; restoring reads only
  // tok_embeddings.weight, so the other tensors (≈13 GB in the real file) are left out.
  const originalFile = join(originalDir, "consolidated.00.pth");
  const { placements } = await timed(originalFile, [originalEmbedding(shape)]);

  return {
    modelDir,
    shardFiles,
    originalFile,
    originalEmbedding: placements[0]!,
    tensorBytes,
    largestTensor,
    ggufTensorCount: 1 + 9 * shape.layers + 2,
  };
}

/** Weight values the shape holds, for sizing. */
export function weightValueCount(shape: BenchShape): number {
  const layer = 4 * shape.hidden * shape.hidden + 3 * shape.hidden * shape.intermediate + 2 * shape.hidden;
  return shape.layers * layer + 2 * elementCount([shape.vocab, shape.hidden]) + shape.hidden;
}
