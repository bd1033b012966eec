// config.json → LLaMA hyper-parameters: the demo, BiLLa-7B's real config, and what must be refused.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BillaError } from "../../src-main/contract/errors.js";
import { DEMO_DIR } from "../../src-main/services/app-root.js";
import { parseHfConfig, readHfConfig } from "../../src-main/services/conversion/checkpoint/hf-config.js";

/** BiLLa-7B-SFT's published config.json. */
const BILLA_7B = {
  architectures: ["LlamaForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 2048,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  pad_token_id: 0,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  torch_dtype: "float16",
  transformers_version: "4.28.0.dev0",
  use_cache: true,
  vocab_size: 46943,
};

function refusal(config: unknown): string {
  try {
    parseHfConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(BillaError);
    expect((error as BillaError).code).toBe("bad_file");
    return (error as BillaError).message;
  }
  throw new Error("the config was accepted");
}

describe("parseHfConfig", () => {
  it("reads BiLLa-7B's config, filling what it leaves out as transformers does", () => {
    expect(parseHfConfig(BILLA_7B)).toEqual({
      contextLength: 2048,
      embeddingLength: 4096,
      feedForwardLength: 11008,
      blockCount: 32,
      headCount: 32,
      headCountKv: 32,
      rmsNormEps: 1e-6,
      ropeFreqBase: 10000,
      ropeDimensionCount: 128,
      vocabSize: 46943,
      bosTokenId: 1,
      eosTokenId: 2,
      unkTokenId: null,
      padTokenId: 0,
      tieWordEmbeddings: false,
    });
  });

  it("takes defaults for absent optional keys and reads the ones that are there", () => {
    const { max_position_embeddings: _context, rms_norm_eps: _eps, bos_token_id: _bos, pad_token_id: _pad, ...minimal } = BILLA_7B;
    expect(parseHfConfig(minimal)).toMatchObject({ contextLength: 2048, rmsNormEps: 1e-6, bosTokenId: null, padTokenId: null });
    const grouped = parseHfConfig({ ...BILLA_7B, num_key_value_heads: 8, rope_theta: 500000, head_dim: 128, tie_word_embeddings: true, eos_token_id: [2, 3] });
    expect(grouped).toMatchObject({ headCountKv: 8, ropeFreqBase: 500000, tieWordEmbeddings: true, eosTokenId: null });
  });

  it("accepts unscaled RoPE however transformers spells it", () => {
    expect(parseHfConfig({ ...BILLA_7B, rope_scaling: null }).ropeFreqBase).toBe(10000);
    expect(parseHfConfig({ ...BILLA_7B, rope_parameters: { rope_type: "default", rope_theta: 20000 } }).ropeFreqBase).toBe(20000);
  });

  it("recognises LLaMA by model_type or by architecture", () => {
    const { model_type: _type, ...byArchitecture } = BILLA_7B;
    expect(parseHfConfig(byArchitecture).blockCount).toBe(32);
    expect(parseHfConfig({ ...BILLA_7B, architectures: undefined }).blockCount).toBe(32);
  });

  it("refuses models that are not LLaMA", () => {
    expect(refusal({ ...BILLA_7B, model_type: "qwen2", architectures: ["Qwen2ForCausalLM"] })).toMatch(/"qwen2" model, not LLaMA/);
    expect(refusal({ ...BILLA_7B, model_type: undefined, architectures: ["BloomForCausalLM"] })).toMatch(/\["BloomForCausalLM"\] model, not LLaMA/);
    expect(refusal([BILLA_7B])).toMatch(/is not a model configuration/);
  });

  it("refuses RoPE scaling", () => {
    expect(refusal({ ...BILLA_7B, rope_scaling: { type: "linear", factor: 2 } })).toMatch(/"linear" RoPE scaling/);
    expect(refusal({ ...BILLA_7B, rope_parameters: { rope_type: "yarn", factor: 4, rope_theta: 10000 } })).toMatch(/"yarn" RoPE scaling/);
    expect(refusal({ ...BILLA_7B, rope_scaling: { factor: 2 } })).toMatch(/"unnamed" RoPE scaling/);
  });

  it("refuses inconsistent head counts", () => {
    expect(refusal({ ...BILLA_7B, num_attention_heads: 30 })).toMatch(/inconsistent attention heads \(hidden_size 4096, num_attention_heads 30/);
    expect(refusal({ ...BILLA_7B, num_key_value_heads: 5 })).toMatch(/inconsistent attention heads/);
    expect(refusal({ ...BILLA_7B, head_dim: 64 })).toMatch(/head_dim 64/);
  });

  it("refuses missing or malformed sizes and negative token ids", () => {
    const { hidden_size: _hidden, ...headless } = BILLA_7B;
    expect(refusal(headless)).toMatch(/^config\.json has no usable hidden_size/);
    expect(refusal({ ...BILLA_7B, vocab_size: "46943" })).toMatch(/no usable vocab_size/);
    expect(refusal({ ...BILLA_7B, pad_token_id: -1 })).toMatch(/gives pad_token_id as -1/);
  });
});

describe("readHfConfig", () => {
  it("reads the demo's config.json", async () => {
    expect(await readHfConfig(join(DEMO_DIR, "billa-demo"))).toEqual({
      contextLength: 2048,
      embeddingLength: 256,
      feedForwardLength: 768,
      blockCount: 2,
      headCount: 4,
      headCountKv: 4,
      rmsNormEps: 1e-6,
      ropeFreqBase: 10000,
      ropeDimensionCount: 64,
      vocabSize: 960,
      bosTokenId: 1,
      eosTokenId: 2,
      unkTokenId: null,
      padTokenId: 0,
      tieWordEmbeddings: false,
    });
  });

  it("says which files to choose when the folder has no config.json", async () => {
    await expect(readHfConfig(join(DEMO_DIR, "llama-original"))).rejects.toThrow(
      /^llama-original has no config\.json: choose the folder that holds BiLLa's config\.json, tokenizer\.model and pytorch_model-\*\.bin files\.$/,
    );
  });
});
