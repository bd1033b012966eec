// Everything the conversion reads, opened and checked before a single output byte is written:
// the BiLLa folder (config, tokenizer, weights) and, when restoring, the original LLaMA embedding.
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { BillaError } from "../../../contract/errors.js";
import { findTensor, openCheckpointFolder, type CheckpointFolder, readJsonFile } from "../checkpoint/checkpoint-folder.js";
import { readHfConfig, type LlamaHyperParameters } from "../checkpoint/hf-config.js";
import { isIgnoredTensor, llamaTensorNames, type TensorNaming } from "../gguf/tensor-names.js";
import { checkRestoreShapes, restoredDType, type RestoreMethod } from "../restore/embedding-restore.js";
import { isFloatTensor, type FloatDType, type FloatTensorLocation, type TensorLocation } from "../tensor.js";
import { readSentencePieceModel, type SentencePieceModel } from "../tokenizer/sentencepiece-model.js";

export interface SourceTensor extends TensorNaming {
  location: FloatTensorLocation;
  /** The type of the rows the pipeline hands on: as stored, except a restored embedding (see restoredDType). */
  dtype: FloatDType;
}

export interface SourceModel {
  dir: string;
  hyper: LlamaHyperParameters;
  tokenizer: SentencePieceModel;
  tokenizerConfig: Record<string, unknown> | null;
  addedTokens: Record<string, number> | null;
  /** In the order they are written. */
  tensors: SourceTensor[];
  embedding: FloatTensorLocation;
  restore: { original: FloatTensorLocation; method: RestoreMethod } | null;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

const ORIGINAL_EMBEDDING_NAMES = ["tok_embeddings.weight", "model.embed_tokens.weight"];

/**
 * The original LLaMA's word embedding from Meta's consolidated.00.pth (or its folder), a Hugging Face LLaMA folder
 * in any layout, its *.index.json, or one weights file. Only the tables of the files that may hold it are read.
 */
export async function openOriginalEmbedding(path: string): Promise<TensorLocation> {
  const info = await stat(path).catch(() => {
    throw new BillaError("not_found", `${path} does not exist. Choose Meta's LLaMA-7B consolidated.00.pth, or a Hugging Face LLaMA-7B folder.`);
  });
  const embedding = await findTensor(path, info.isDirectory(), ORIGINAL_EMBEDDING_NAMES);
  if (!embedding) {
    throw new BillaError("bad_file", `${basename(path)} has no tok_embeddings.weight or model.embed_tokens.weight: it is not a LLaMA checkpoint. Choose LLaMA-7B's consolidated.00.pth or a Hugging Face LLaMA-7B folder.`);
  }
  return embedding;
}

function checkShape(tensor: SourceTensor, expected: number[]): void {
  const actual = tensor.location.shape;
  if (actual.length !== expected.length || actual.some((dim, i) => dim !== expected[i])) {
    throw new BillaError(
      "bad_file",
      `${tensor.hf} has shape [${actual.join(", ")}] but config.json implies [${expected.join(", ")}]. The weights and config.json belong to different models.`,
    );
  }
}

function expectedShape(naming: TensorNaming, hyper: LlamaHyperParameters): number[] {
  const headSize = hyper.embeddingLength / hyper.headCount;
  const part = naming.gguf.replace(/^blk\.\d+\./, "");
  switch (part) {
    case "token_embd.weight":
    case "output.weight":
      return [hyper.vocabSize, hyper.embeddingLength];
    case "attn_k.weight":
    case "attn_v.weight":
      return [hyper.headCountKv * headSize, hyper.embeddingLength];
    case "ffn_gate.weight":
    case "ffn_up.weight":
      return [hyper.feedForwardLength, hyper.embeddingLength];
    case "ffn_down.weight":
      return [hyper.embeddingLength, hyper.feedForwardLength];
    case "attn_norm.weight":
    case "ffn_norm.weight":
    case "output_norm.weight":
      return [hyper.embeddingLength];
    default:
      return [hyper.embeddingLength, hyper.embeddingLength];
  }
}

export async function openSourceModel(options: {
  modelDir: string;
  originalLlama?: string;
  method?: RestoreMethod;
  /** The folder's tensor table, when the caller has read it already. */
  folder?: CheckpointFolder;
}): Promise<SourceModel> {
  const hyper = await readHfConfig(options.modelDir);
  const tokenizerPath = join(options.modelDir, "tokenizer.model");
  await stat(tokenizerPath).catch(() => {
    throw new BillaError("bad_file", `${basename(options.modelDir)} has no tokenizer.model. Download BiLLa's tokenizer.model into the same folder.`);
  });
  const tokenizer = await readSentencePieceModel(tokenizerPath);
  const folder = options.folder ?? (await openCheckpointFolder(options.modelDir));

  const namings = llamaTensorNames(hyper.blockCount, folder.tensors.has("lm_head.weight"));
  const tensors: SourceTensor[] = namings.map((naming) => {
    const location = folder.tensors.get(naming.hf);
    if (!location) throw new BillaError("bad_file", `The checkpoint has no ${naming.hf}. The download is incomplete, or it is not a LLaMA model.`);
    if (!isFloatTensor(location)) throw new BillaError("bad_file", `${naming.hf} holds ${location.dtype} values; model weights are floating point.`);
    const tensor = { ...naming, location, dtype: location.dtype };
    checkShape(tensor, expectedShape(naming, hyper));
    return tensor;
  });
  const known = new Set(namings.map((naming) => naming.hf));
  const unknown = [...folder.tensors.keys()].filter((name) => !known.has(name) && !isIgnoredTensor(name));
  if (unknown.length) throw new BillaError("bad_file", `The checkpoint holds tensors a LLaMA model does not have (${unknown.slice(0, 3).join(", ")}…).`);
  if (tokenizer.pieces.length > hyper.vocabSize) {
    throw new BillaError("bad_file", `tokenizer.model has ${tokenizer.pieces.length} tokens but the model only ${hyper.vocabSize}: they do not belong together.`);
  }

  const embedding = tensors[0]!.location;
  let restore: SourceModel["restore"] = null;
  if (options.originalLlama !== undefined) {
    const original = await openOriginalEmbedding(options.originalLlama);
    checkRestoreShapes(embedding, original);
    restore = { original, method: options.method ?? "decrypt" };
    tensors[0]!.dtype = restoredDType(restore.method);
  }
  return {
    dir: options.modelDir,
    hyper,
    tokenizer,
    tokenizerConfig: asRecord(await readJsonFile(join(options.modelDir, "tokenizer_config.json"))),
    addedTokens: asRecord(await readJsonFile(join(options.modelDir, "added_tokens.json"))) as Record<string, number> | null,
    tensors,
    embedding,
    restore,
  };
}
