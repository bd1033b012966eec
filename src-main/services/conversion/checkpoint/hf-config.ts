// Reads a Hugging Face LLaMA config.json into the hyper-parameters GGUF conversion needs: transformers' LlamaConfig
// defaults where a key is absent, and a clear refusal of anything that is not a plain LLaMA like BiLLa.
import { basename, join } from "node:path";
import { z } from "zod";
import { BillaError } from "../../../contract/errors.js";
import { readJsonFile } from "./checkpoint-folder.js";

export interface LlamaHyperParameters {
  contextLength: number;
  embeddingLength: number;
  feedForwardLength: number;
  blockCount: number;
  headCount: number;
  headCountKv: number;
  rmsNormEps: number;
  ropeFreqBase: number;
  ropeDimensionCount: number;
  vocabSize: number;
  /** As config.json states them, null when absent: llama.cpp's converter reads these raw, without transformers' defaults. */
  bosTokenId: number | null;
  eosTokenId: number | null;
  unkTokenId: number | null;
  padTokenId: number | null;
  tieWordEmbeddings: boolean;
}

const FILE = "config.json";
/** The second is the class name of early transformers ports; llama.cpp's converter accepts both. */
const LLAMA_ARCHITECTURES = ["LlamaForCausalLM", "LLaMAForCausalLM"];

const size = z.number().int().positive();
const ropeSchema = z.looseObject({ rope_type: z.string().optional(), type: z.string().optional(), rope_theta: z.number().positive().optional() });
const configSchema = z.looseObject({
  hidden_size: size,
  intermediate_size: size,
  num_hidden_layers: size,
  num_attention_heads: size,
  num_key_value_heads: size.nullish(),
  head_dim: size.nullish(),
  max_position_embeddings: size.nullish(),
  rms_norm_eps: z.number().positive().nullish(),
  rope_theta: z.number().positive().nullish(),
  rope_scaling: ropeSchema.nullish(),
  /** transformers 5 keeps rope_theta and the scaling type here. */
  rope_parameters: ropeSchema.nullish(),
  vocab_size: size,
  tie_word_embeddings: z.boolean().nullish(),
});

const fail = (problem: string) => new BillaError("bad_file", `${FILE} ${problem}`);

function isLlama(config: Record<string, unknown>): boolean {
  const { model_type: modelType, architectures } = config;
  return modelType === "llama" || (Array.isArray(architectures) && architectures.some((name) => LLAMA_ARCHITECTURES.includes(name as string)));
}

/** Like llama.cpp's SpecialVocab: anything but a whole number counts as absent, and a negative one is refused. */
function tokenId(config: Record<string, unknown>, key: string): number | null {
  const value = config[key];
  if (typeof value !== "number" || !Number.isInteger(value)) return null;
  if (value < 0) throw fail(`gives ${key} as ${value}; a token id cannot be negative. Remove ${key} from ${FILE}, or use BiLLa's original ${FILE}.`);
  return value;
}

export function parseHfConfig(raw: unknown): LlamaHyperParameters {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail("is not a model configuration. Download BiLLa's config.json again.");
  const record = raw as Record<string, unknown>;
  if (!isLlama(record)) {
    const kind = JSON.stringify(record.model_type ?? record.architectures ?? "unnamed");
    throw fail(`describes a ${kind} model, not LLaMA. BiLLa Desktop converts BiLLa, a LLaMA model: choose BiLLa's folder.`);
  }
  const parsed = configSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw fail(`has no usable ${issue.path.join(".")} (${issue.message}). Download BiLLa's config.json again.`);
  }
  const config = parsed.data;

  const rope = config.rope_parameters ?? config.rope_scaling;
  const ropeType = rope ? (rope.rope_type ?? rope.type) : "default";
  if (ropeType !== "default") {
    throw fail(`asks for "${ropeType ?? "unnamed"}" RoPE scaling. BiLLa has none, and BiLLa Desktop converts only unscaled LLaMA models: use BiLLa's original config.json.`);
  }

  const headCount = config.num_attention_heads;
  const headCountKv = config.num_key_value_heads ?? headCount; // transformers' default: no grouped-query attention
  const headSize = config.hidden_size / headCount;
  if (!Number.isInteger(headSize) || headSize % 2 !== 0 || (config.head_dim != null && config.head_dim !== headSize) || headCount % headCountKv !== 0) {
    throw fail(
      `has inconsistent attention heads (hidden_size ${config.hidden_size}, num_attention_heads ${headCount}, num_key_value_heads ${headCountKv}, head_dim ${config.head_dim ?? "unset"}): ` +
        "hidden_size must split into heads of an even size, shared evenly by the key/value heads. The file is damaged or not BiLLa's.",
    );
  }

  return {
    contextLength: config.max_position_embeddings ?? 2048,
    embeddingLength: config.hidden_size,
    feedForwardLength: config.intermediate_size,
    blockCount: config.num_hidden_layers,
    headCount,
    headCountKv,
    rmsNormEps: config.rms_norm_eps ?? 1e-6,
    ropeFreqBase: rope?.rope_theta ?? config.rope_theta ?? 10000,
    ropeDimensionCount: headSize,
    vocabSize: config.vocab_size,
    bosTokenId: tokenId(record, "bos_token_id"),
    eosTokenId: tokenId(record, "eos_token_id"),
    unkTokenId: tokenId(record, "unk_token_id"),
    padTokenId: tokenId(record, "pad_token_id"),
    tieWordEmbeddings: config.tie_word_embeddings ?? false,
  };
}

export async function readHfConfig(dir: string): Promise<LlamaHyperParameters> {
  const raw = await readJsonFile(join(dir, FILE));
  if (raw === null) {
    throw new BillaError(
      "bad_file",
      `${basename(dir)} has no ${FILE}: choose the folder that holds BiLLa's config.json, tokenizer.model and pytorch_model-*.bin files.`,
    );
  }
  return parseHfConfig(raw);
}
