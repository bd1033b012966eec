// The GGUF metadata of a converted BiLLa model: what llama.cpp's convert_hf_to_gguf.py writes for a LLaMA with a
// SentencePiece tokenizer (LlamaModel, _set_vocab_sentencepiece, SpecialVocab), in the order it writes them for
// F16 and BF16 and llama-quantize leaves them for the other types, plus BiLLa's chat template and our billa.* keys.
// test/unit/llama-cpp-reference.test.ts holds this against llama.cpp's own output for the demo model.
import { z } from "zod";
import { BillaError } from "../../../contract/errors.js";
import { BILLA_CHAT_TEMPLATE } from "../../models/billa-chat-template.js";
import type { LlamaHyperParameters } from "../checkpoint/hf-config.js";
import { findDuplicate, type PieceType, type SentencePieceModel } from "../tokenizer/sentencepiece-model.js";
import { GgufValueType, Keys, LlamaFileType, TokenType, type GgufKv } from "./gguf-types.js";

export interface LlamaMetadataInput {
  name: string;
  hyper: LlamaHyperParameters;
  tokenizer: SentencePieceModel;
  /** tokenizer_config.json and added_tokens.json as parsed, null when the folder lacks them. */
  tokenizerConfig: Record<string, unknown> | null;
  addedTokens: Record<string, number> | null;
  fileType: LlamaFileType;
  /** Elements of all tensors written, for general.size_label. */
  parameterCount: number;
  restoredEmbeddingSum?: number;
}

const GGML_QUANTIZATION_VERSION = 2;

/** The converter asks sentencepiece only IsUnknown/IsControl/IsUnused/IsByte, so USER_DEFINED pieces become NORMAL. */
const TOKEN_TYPE_OF_PIECE: Readonly<Record<PieceType, TokenType>> = {
  NORMAL: TokenType.NORMAL,
  UNKNOWN: TokenType.UNKNOWN,
  CONTROL: TokenType.CONTROL,
  USER_DEFINED: TokenType.NORMAL,
  UNUSED: TokenType.UNUSED,
  BYTE: TokenType.BYTE,
};

const addedTokensSchema = z.record(z.string(), z.number().int().nonnegative());
const addedTokensDecoderSchema = z.record(z.string().regex(/^\d+$/), z.looseObject({ content: z.string(), special: z.boolean().nullish() })).optional();

const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT32, value });
const f64 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT64, value });
const text = (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value });
/** Written only when the file holds a boolean, as the converter does for add_*_token and add_prefix_space. */
const optionalFlag = (key: string, value: unknown): GgufKv[] => (typeof value === "boolean" ? [{ key, type: GgufValueType.BOOL, value }] : []);

/** Added tokens the converter makes CONTROL though not marked special (its does_token_look_special). */
function looksSpecial(token: string): boolean {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(token) ||
    (token.startsWith("<|") && token.endsWith("|>")) ||
    (token.startsWith("<｜") && token.endsWith("｜>")) ||
    (token.startsWith("<unused") && token.endsWith(">"))
  );
}

/** _create_vocab_sentencepiece: pieces, then added_tokens.json, then tokenizer_config's added_tokens_decoder. */
function vocabulary({ hyper, tokenizer, tokenizerConfig, addedTokens }: LlamaMetadataInput) {
  const size = hyper.vocabSize;
  const tokens = Array.from({ length: size }, (_, id) => `[PAD${id}]`);
  const scores = new Array<number>(size).fill(-10000);
  const types = new Array<TokenType>(size).fill(TokenType.UNUSED);
  // Ids at or past vocab_size are dropped, as the converter drops them (with a warning).
  const set = (id: number, token: string, score: number, type: TokenType) => {
    if (id >= size) return;
    tokens[id] = token;
    scores[id] = score;
    types[id] = type;
  };

  tokenizer.pieces.forEach(({ piece, score, type }, id) => set(id, piece, score, TOKEN_TYPE_OF_PIECE[type]));

  const added = addedTokensSchema.safeParse(addedTokens ?? {});
  if (!added.success) throw new BillaError("bad_file", "added_tokens.json must map each token to its id, a whole number. Download it again or remove it.");
  for (const [token, id] of Object.entries(added.data)) set(id, token, -1000, TokenType.USER_DEFINED);

  const decoder = addedTokensDecoderSchema.safeParse(tokenizerConfig?.added_tokens_decoder);
  if (!decoder.success) throw new BillaError("bad_file", "tokenizer_config.json has a malformed added_tokens_decoder. Download it again.");
  for (const [id, { content, special }] of Object.entries(decoder.data ?? {})) {
    const control = special === true || looksSpecial(content);
    // A user-defined token's ▁ is written as the space it stands for.
    set(Number(id), control ? content : content.replaceAll("▁", " "), -1000, control ? TokenType.CONTROL : TokenType.USER_DEFINED);
  }

  const duplicate = findDuplicate(tokens);
  if (duplicate) {
    const [first, second] = duplicate;
    throw new BillaError(
      "bad_file",
      `The tokenizer files give "${tokens[first]}" both id ${first} and id ${second}, and llama.cpp cannot load duplicate tokens. Check added_tokens.json and tokenizer_config.json.`,
    );
  }
  return { tokens, scores, types };
}

/** SpecialVocab's ids from config.json, in its order (bos, eos, unk, pad); ids outside the vocabulary are skipped. */
function specialTokenIds(hyper: LlamaHyperParameters): GgufKv[] {
  const ids = [
    [Keys.Tokenizer.BOS_ID, hyper.bosTokenId],
    [Keys.Tokenizer.EOS_ID, hyper.eosTokenId],
    [Keys.Tokenizer.UNK_ID, hyper.unkTokenId],
    [Keys.Tokenizer.PAD_ID, hyper.padTokenId],
  ] as const;
  return ids.flatMap(([key, id]) => (id !== null && id < hyper.vocabSize ? [u32(key, id)] : []));
}

/** gguf-py's size_label for a dense model: "2.2M", "6.9B" (two significant digits at least). */
export function sizeLabel(parameters: number): string {
  const [scale, suffix] = parameters > 1e12 ? [1e-12, "T"] : parameters > 1e9 ? [1e-9, "B"] : parameters > 1e6 ? [1e-6, "M"] : [1e-3, "K"];
  const scaled = parameters * scale;
  // Python's round() takes halves to even; only the count of integer digits matters here.
  const rounded = Math.abs(scaled % 1) === 0.5 ? 2 * Math.round(scaled / 2) : Math.round(scaled);
  const integerDigits = String(rounded).replace(/^0+/, "").length;
  return `${scaled.toFixed(Math.max(2 - integerDigits, 0))}${suffix}`;
}

/** convert_hf_to_gguf.py writes these two file types; llama-quantize writes the rest. */
const CONVERTER_FILE_TYPES: ReadonlySet<LlamaFileType> = new Set([LlamaFileType.MOSTLY_F16, LlamaFileType.MOSTLY_BF16]);

export function llamaMetadata(input: LlamaMetadataInput): GgufKv[] {
  const { hyper, tokenizerConfig } = input;
  const { tokens, scores, types } = vocabulary(input);
  // The converter writes file_type among the hyper-parameters and quantization_version after them; llama-quantize
  // sets both again, which moves them to the end. We quantize while converting and write what each tool writes.
  const fileType = [u32(Keys.General.FILE_TYPE, input.fileType)];
  const quantizationVersion = [u32(Keys.General.QUANTIZATION_VERSION, GGML_QUANTIZATION_VERSION)];
  const byConverter = CONVERTER_FILE_TYPES.has(input.fileType);
  return [
    text(Keys.General.ARCHITECTURE, "llama"),
    text(Keys.General.TYPE, "model"),
    text(Keys.General.NAME, input.name),
    text(Keys.General.SIZE_LABEL, sizeLabel(input.parameterCount)),
    // TextModel.set_gguf_parameters, then LlamaModel's own (vocab_size, rope.dimension_count). The converter reads
    // config.json through transformers' AutoConfig, which fills in what BiLLa's 2023 config leaves out:
    // num_key_value_heads (= heads), rope_theta (10000) and head_dim (hidden / heads).
    u32(Keys.Llama.BLOCK_COUNT, hyper.blockCount),
    u32(Keys.Llama.CONTEXT_LENGTH, hyper.contextLength),
    u32(Keys.Llama.EMBEDDING_LENGTH, hyper.embeddingLength),
    u32(Keys.Llama.FEED_FORWARD_LENGTH, hyper.feedForwardLength),
    u32(Keys.Llama.HEAD_COUNT, hyper.headCount),
    u32(Keys.Llama.HEAD_COUNT_KV, hyper.headCountKv),
    f32(Keys.Llama.ROPE_FREQ_BASE, hyper.ropeFreqBase),
    f32(Keys.Llama.LAYER_NORM_RMS_EPSILON, hyper.rmsNormEps),
    // head_dim: hf-config.ts accepts only hidden / heads, which is also the rope dimension count.
    u32(Keys.Llama.KEY_LENGTH, hyper.ropeDimensionCount),
    u32(Keys.Llama.VALUE_LENGTH, hyper.ropeDimensionCount),
    ...(byConverter ? fileType : []),
    u32(Keys.Llama.VOCAB_SIZE, hyper.vocabSize),
    u32(Keys.Llama.ROPE_DIMENSION_COUNT, hyper.ropeDimensionCount),
    ...(byConverter ? quantizationVersion : []),
    // LlamaModel.set_vocab, _set_vocab_sentencepiece, then SpecialVocab.add_to_gguf.
    ...optionalFlag(Keys.Tokenizer.ADD_SPACE_PREFIX, tokenizerConfig?.add_prefix_space),
    text(Keys.Tokenizer.MODEL, "llama"),
    text(Keys.Tokenizer.PRE, "default"),
    { key: Keys.Tokenizer.TOKENS, type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: tokens },
    { key: Keys.Tokenizer.SCORES, type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: scores },
    { key: Keys.Tokenizer.TOKEN_TYPE, type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: types },
    ...specialTokenIds(hyper),
    ...optionalFlag(Keys.Tokenizer.ADD_BOS, tokenizerConfig?.add_bos_token),
    ...optionalFlag(Keys.Tokenizer.ADD_EOS, tokenizerConfig?.add_eos_token),
    // Ours, even if tokenizer_config.json brings one: BiLLa publishes none, and the app relies on this format.
    text(Keys.Tokenizer.CHAT_TEMPLATE, BILLA_CHAT_TEMPLATE),
    text(Keys.Billa.PROMPT_FORMAT, "billa"),
    ...(input.restoredEmbeddingSum === undefined ? [] : [f64(Keys.Billa.RESTORED_EMBEDDING_SUM, input.restoredEmbeddingSum)]),
    ...(byConverter ? [] : [...quantizationVersion, ...fileType]),
  ];
}
