// GGUF's and ggml's numbers, named once (after ggml.h, llama.h and gguf-py's constants.py).
import type { OutputTypeName } from "../../../contract/api.js";

/** ggml_type: how a tensor's elements are stored. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
}

/** Elements per block and bytes per block (ggml's type traits). */
export const GGML_BLOCK: Readonly<Record<GgmlType, { elements: number; bytes: number }>> = {
  [GgmlType.F32]: { elements: 1, bytes: 4 },
  [GgmlType.F16]: { elements: 1, bytes: 2 },
  [GgmlType.BF16]: { elements: 1, bytes: 2 },
  [GgmlType.Q4_0]: { elements: 32, bytes: 18 },
  [GgmlType.Q4_1]: { elements: 32, bytes: 20 },
  [GgmlType.Q5_0]: { elements: 32, bytes: 22 },
  [GgmlType.Q5_1]: { elements: 32, bytes: 24 },
  [GgmlType.Q8_0]: { elements: 32, bytes: 34 },
  [GgmlType.Q8_1]: { elements: 32, bytes: 36 },
  [GgmlType.Q2_K]: { elements: 256, bytes: 84 },
  [GgmlType.Q3_K]: { elements: 256, bytes: 110 },
  [GgmlType.Q4_K]: { elements: 256, bytes: 144 },
  [GgmlType.Q5_K]: { elements: 256, bytes: 176 },
  [GgmlType.Q6_K]: { elements: 256, bytes: 210 },
  [GgmlType.Q8_K]: { elements: 256, bytes: 292 },
};

/** Bytes of one row of `elements` values, which must fill whole blocks. */
export function ggmlRowBytes(type: GgmlType, elements: number): number {
  const block = GGML_BLOCK[type];
  if (elements % block.elements !== 0) throw new RangeError(`${GgmlType[type]} rows must hold a multiple of ${block.elements} values, not ${elements}`);
  return (elements / block.elements) * block.bytes;
}

/** gguf_type: the type of a metadata value. */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** llama_ftype: what `general.file_type` says of the whole file. */
export enum LlamaFileType {
  ALL_F32 = 0,
  MOSTLY_F16 = 1,
  MOSTLY_Q4_0 = 2,
  MOSTLY_Q4_1 = 3,
  MOSTLY_Q8_0 = 7,
  MOSTLY_Q5_0 = 8,
  MOSTLY_Q5_1 = 9,
  MOSTLY_Q2_K = 10,
  MOSTLY_Q3_K_S = 11,
  MOSTLY_Q3_K_M = 12,
  MOSTLY_Q3_K_L = 13,
  MOSTLY_Q4_K_S = 14,
  MOSTLY_Q4_K_M = 15,
  MOSTLY_Q5_K_S = 16,
  MOSTLY_Q5_K_M = 17,
  MOSTLY_Q6_K = 18,
  MOSTLY_BF16 = 32,
}

/** llama_token_type, as `tokenizer.ggml.token_type` stores it. */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

/** The output types BiLLa Desktop offers (named in the contract), with what each means to ggml. */
export const OUTPUT_TYPES = {
  f16: { fileType: LlamaFileType.MOSTLY_F16, baseType: GgmlType.F16 },
  bf16: { fileType: LlamaFileType.MOSTLY_BF16, baseType: GgmlType.BF16 },
  q8_0: { fileType: LlamaFileType.MOSTLY_Q8_0, baseType: GgmlType.Q8_0 },
  q4_0: { fileType: LlamaFileType.MOSTLY_Q4_0, baseType: GgmlType.Q4_0 },
  q4_k_m: { fileType: LlamaFileType.MOSTLY_Q4_K_M, baseType: GgmlType.Q4_K },
  q5_k_m: { fileType: LlamaFileType.MOSTLY_Q5_K_M, baseType: GgmlType.Q5_K },
  q6_k: { fileType: LlamaFileType.MOSTLY_Q6_K, baseType: GgmlType.Q6_K },
} as const satisfies Record<OutputTypeName, { fileType: LlamaFileType; baseType: GgmlType }>;
export type OutputType = OutputTypeName;

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata keys, as llama.cpp's loader looks them up. */
export const Keys = {
  General: {
    ARCHITECTURE: "general.architecture",
    TYPE: "general.type",
    NAME: "general.name",
    SIZE_LABEL: "general.size_label",
    FILE_TYPE: "general.file_type",
    QUANTIZATION_VERSION: "general.quantization_version",
    ALIGNMENT: "general.alignment",
  },
  Llama: {
    CONTEXT_LENGTH: "llama.context_length",
    EMBEDDING_LENGTH: "llama.embedding_length",
    FEED_FORWARD_LENGTH: "llama.feed_forward_length",
    BLOCK_COUNT: "llama.block_count",
    HEAD_COUNT: "llama.attention.head_count",
    HEAD_COUNT_KV: "llama.attention.head_count_kv",
    KEY_LENGTH: "llama.attention.key_length",
    VALUE_LENGTH: "llama.attention.value_length",
    LAYER_NORM_RMS_EPSILON: "llama.attention.layer_norm_rms_epsilon",
    ROPE_FREQ_BASE: "llama.rope.freq_base",
    ROPE_DIMENSION_COUNT: "llama.rope.dimension_count",
    VOCAB_SIZE: "llama.vocab_size",
  },
  Tokenizer: {
    MODEL: "tokenizer.ggml.model",
    PRE: "tokenizer.ggml.pre",
    TOKENS: "tokenizer.ggml.tokens",
    SCORES: "tokenizer.ggml.scores",
    TOKEN_TYPE: "tokenizer.ggml.token_type",
    BOS_ID: "tokenizer.ggml.bos_token_id",
    EOS_ID: "tokenizer.ggml.eos_token_id",
    UNK_ID: "tokenizer.ggml.unknown_token_id",
    PAD_ID: "tokenizer.ggml.padding_token_id",
    ADD_BOS: "tokenizer.ggml.add_bos_token",
    ADD_EOS: "tokenizer.ggml.add_eos_token",
    ADD_SPACE_PREFIX: "tokenizer.ggml.add_space_prefix",
    CHAT_TEMPLATE: "tokenizer.chat_template",
  },
  /** Written by BiLLa Desktop's converter so the runtime knows a BiLLa model without guessing. */
  Billa: {
    PROMPT_FORMAT: "billa.prompt_format",
    RESTORED_EMBEDDING_SUM: "billa.restored_embedding_sum",
  },
} as const;

/** A dotted key ("billa.prompt_format") looked up in metadata as node-llama-cpp reads it: nested objects. */
export function metadataValue(metadata: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined), metadata);
}

/** One metadata entry, typed by the value it holds. */
export type GgufKv =
  | { key: string; type: GgufValueType.STRING; value: string }
  | { key: string; type: GgufValueType.UINT32 | GgufValueType.INT32 | GgufValueType.FLOAT32 | GgufValueType.FLOAT64; value: number }
  | { key: string; type: GgufValueType.BOOL; value: boolean }
  | { key: string; type: GgufValueType.ARRAY; itemType: GgufValueType.STRING; value: string[] }
  | { key: string; type: GgufValueType.ARRAY; itemType: GgufValueType.FLOAT32 | GgufValueType.INT32; value: number[] };
