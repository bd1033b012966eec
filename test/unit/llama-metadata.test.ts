// The tokenizer cases llama.cpp's converter handles, on the demo checkpoint's metadata. The keys, their order, types
// and values are held against llama.cpp's own output in llama-cpp-reference.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JinjaTemplateChatWrapper, SpecialToken, type ChatHistoryItem } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { BillaError } from "../../src-main/contract/errors.js";
import { DEMO_DIR } from "../../src-main/services/app-root.js";
import { readHfConfig } from "../../src-main/services/conversion/checkpoint/hf-config.js";
import { GgufValueType, LlamaFileType, TokenType, type GgufKv } from "../../src-main/services/conversion/gguf/gguf-types.js";
import { llamaMetadata, type LlamaMetadataInput } from "../../src-main/services/conversion/gguf/llama-metadata.js";
import { readSentencePieceModel } from "../../src-main/services/conversion/tokenizer/sentencepiece-model.js";
import { billaPromptText } from "../../src-main/services/runtime/billa-chat-wrapper.js";

const BILLA_DEMO = join(DEMO_DIR, "billa-demo");
const golden = JSON.parse(readFileSync(join(DEMO_DIR, "golden.json"), "utf8")) as {
  cases: { id: string; turns: { question: string; answer?: string }[]; prompt: string }[];
};

const demo: LlamaMetadataInput = {
  name: "BiLLa demo",
  hyper: await readHfConfig(BILLA_DEMO),
  tokenizer: await readSentencePieceModel(join(BILLA_DEMO, "tokenizer.model")),
  tokenizerConfig: JSON.parse(readFileSync(join(BILLA_DEMO, "tokenizer_config.json"), "utf8")) as Record<string, unknown>,
  addedTokens: null,
  fileType: LlamaFileType.MOSTLY_Q4_K_M,
  parameterCount: 2_196_736,
  restoredEmbeddingSum: 1.838963806629181,
};

function entry(metadata: GgufKv[], key: string): GgufKv {
  const found = metadata.find((kv) => kv.key === key);
  if (!found) throw new Error(`${key} is missing`);
  return found;
}

function vocabularyOf(metadata: GgufKv[]): { tokens: string[]; scores: number[]; types: number[] } {
  const value = (key: string) => entry(metadata, key).value as unknown[];
  return {
    tokens: value("tokenizer.ggml.tokens") as string[],
    scores: value("tokenizer.ggml.scores") as number[],
    types: value("tokenizer.ggml.token_type") as number[],
  };
}

function chatTemplate(metadata: GgufKv[]): string {
  return entry(metadata, "tokenizer.chat_template").value as string;
}

describe("llamaMetadata on the demo checkpoint", () => {
  const metadata = llamaMetadata(demo);

  it("pads the 952 pieces to config.json's 960 as unused [PAD{id}] tokens", () => {
    const arrays = metadata.filter((kv) => kv.type === GgufValueType.ARRAY);
    expect(arrays.map((kv) => [kv.key, "itemType" in kv && GgufValueType[kv.itemType], kv.value.length])).toEqual([
      ["tokenizer.ggml.tokens", "STRING", 960],
      ["tokenizer.ggml.scores", "FLOAT32", 960],
      ["tokenizer.ggml.token_type", "INT32", 960],
    ]);
    const { tokens, scores, types } = vocabularyOf(metadata);
    expect(tokens.slice(952)).toEqual(["[PAD952]", "[PAD953]", "[PAD954]", "[PAD955]", "[PAD956]", "[PAD957]", "[PAD958]", "[PAD959]"]);
    expect(new Set(scores.slice(952))).toEqual(new Set([-10000]));
    expect(new Set(types.slice(952))).toEqual(new Set([TokenType.UNUSED]));
  });

  it("keeps the pieces raw, with their scores and llama.cpp's token types", () => {
    const { tokens, scores, types } = vocabularyOf(metadata);
    expect(tokens.slice(0, 952)).toEqual(demo.tokenizer.pieces.map((piece) => piece.piece));
    expect(scores.slice(0, 952)).toEqual(demo.tokenizer.pieces.map((piece) => piece.score));
    expect(types.slice(0, 4)).toEqual([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.BYTE]);
    expect(types.slice(3, 259).every((type) => type === TokenType.BYTE)).toBe(true);
    expect(tokens[3]).toBe("<0x00>");
    expect(tokens[258]).toBe("<0xFF>");
    expect(types.slice(259, 952).every((type) => type === TokenType.NORMAL)).toBe(true);
    expect(tokens).toContain("▁");
  });

  it("leaves out the restored-embedding sum when there is none", () => {
    const { restoredEmbeddingSum: _sum, ...withoutSum } = demo;
    expect(llamaMetadata(withoutSum).some((kv) => kv.key === "billa.restored_embedding_sum")).toBe(false);
  });
});

describe("the chat template, rendered by node-llama-cpp's Jinja chat wrapper", () => {
  const wrapper = new JinjaTemplateChatWrapper({ template: chatTemplate(llamaMetadata(demo)) });

  /** The rendered prompt: BOS as a marker, then the text. */
  function render(chatHistory: ChatHistoryItem[]): string {
    const { contextText } = wrapper.generateContextState({ chatHistory });
    return contextText.values.map((part) => (part instanceof SpecialToken ? `[${part.value}]` : part.toString())).join("");
  }

  function conversation(turns: { question: string; answer?: string }[]): ChatHistoryItem[] {
    return turns.flatMap(({ question, answer }): ChatHistoryItem[] => [
      { type: "user", text: question },
      { type: "model", response: answer === undefined ? [] : [answer] },
    ]);
  }

  it("renders golden.json's prompts after a single BOS", () => {
    for (const id of ["dialog-mayor-turn2", "dialog-xiaolan-home-turn2", "zorbia-capital"]) {
      const goldenCase = golden.cases.find((candidate) => candidate.id === id)!;
      expect(render(conversation(goldenCase.turns))).toBe(`[BOS]${goldenCase.prompt}`);
    }
  });

  it("reads a system message as the app's API does: its text and \\n before the first Human: line", () => {
    expect(wrapper.settings.supportsSystemMessages).toBe(true);
    const prompt = render([{ type: "system", text: "Be brief." }, ...conversation([{ question: "Hi" }])]);
    expect(prompt).toBe(`[BOS]${billaPromptText([], "Hi", "Be brief.")}`);
  });
});

describe("llamaMetadata's tokenizer cases", () => {
  const pieceCount = demo.tokenizer.pieces.length;

  it("drops pieces and special ids at or past vocab_size", () => {
    const metadata = llamaMetadata({ ...demo, hyper: { ...demo.hyper, vocabSize: 900, padTokenId: 900 } });
    const { tokens } = vocabularyOf(metadata);
    expect(tokens).toHaveLength(900);
    expect(tokens).toEqual(demo.tokenizer.pieces.slice(0, 900).map((piece) => piece.piece));
    expect(metadata.some((kv) => kv.key === "tokenizer.ggml.padding_token_id")).toBe(false);
  });

  it("lets added_tokens.json overwrite ids as user-defined tokens, ignoring ids past vocab_size", () => {
    const metadata = llamaMetadata({ ...demo, addedTokens: { "<pad>": pieceCount, "<extra>": 5000 } });
    const { tokens, scores, types } = vocabularyOf(metadata);
    expect([tokens[pieceCount], scores[pieceCount], types[pieceCount]]).toEqual(["<pad>", -1000, TokenType.USER_DEFINED]);
    expect(tokens).toHaveLength(960);
    expect(tokens).not.toContain("<extra>");
  });

  it("applies tokenizer_config's added_tokens_decoder like the converter", () => {
    const tokenizerConfig = {
      ...demo.tokenizerConfig,
      added_tokens_decoder: {
        "0": { content: "<unk>", special: true },
        [pieceCount]: { content: "▁BiLLa", special: false },
        [pieceCount + 1]: { content: "<|im_end|>", special: false },
      },
    };
    const { tokens, scores, types } = vocabularyOf(llamaMetadata({ ...demo, tokenizerConfig }));
    expect([tokens[0], scores[0], types[0]]).toEqual(["<unk>", -1000, TokenType.CONTROL]);
    expect([tokens[pieceCount], types[pieceCount]]).toEqual([" BiLLa", TokenType.USER_DEFINED]);
    expect([tokens[pieceCount + 1], types[pieceCount + 1]]).toEqual(["<|im_end|>", TokenType.CONTROL]);
  });

  it("writes tokenizer_config's flags only when they are booleans, add_space_prefix just before the tokenizer", () => {
    const metadata = llamaMetadata({ ...demo, tokenizerConfig: { add_prefix_space: false, add_bos_token: "yes" } });
    const keys = metadata.map((kv) => kv.key);
    expect(keys[keys.indexOf("tokenizer.ggml.model") - 1]).toBe("tokenizer.ggml.add_space_prefix");
    expect(entry(metadata, "tokenizer.ggml.add_space_prefix")).toMatchObject({ type: GgufValueType.BOOL, value: false });
    expect(keys).not.toContain("tokenizer.ggml.add_bos_token");
    expect(keys).not.toContain("tokenizer.ggml.add_eos_token");
  });

  it("refuses token lists llama.cpp could not load, and malformed token files", () => {
    expect(() => llamaMetadata({ ...demo, addedTokens: { "<s>": pieceCount } })).toThrow(/"<s>" both id 1 and id 952/);
    expect(() => llamaMetadata({ ...demo, addedTokens: { "<pad>": -1 } })).toThrow(BillaError);
    expect(() => llamaMetadata({ ...demo, tokenizerConfig: { added_tokens_decoder: { x: { content: "a" } } } })).toThrow(/added_tokens_decoder/);
  });
});
