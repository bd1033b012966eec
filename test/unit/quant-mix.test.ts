// Which type each tensor gets: first against what llama-quantize itself chose for two models of other shapes
// (test/fixtures/llama-cpp-reference/quant-types.json), then against tables derived from llama.cpp's rules
// (src/llama-quant.cpp) for BiLLa-7B's own shape, which is too large to quantize for a test.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OUTPUT_TYPE_NAMES } from "../../src-main/contract/api.js";
import { LLAMA_CPP_REFERENCE } from "../support/demo.js";
import { GgmlType, type OutputType } from "../../src-main/services/conversion/gguf/gguf-types.js";
import { planTensorTypes, type TensorShape } from "../../src-main/services/conversion/quantize/quant-mix.js";

const { F32, F16, BF16, Q4_0, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K } = GgmlType;

/** A LLaMA's tensors as the converter names and shapes them (innermost dimension first), in name order. */
function llamaTensors(size: { hidden: number; layers: number; intermediate: number; vocab: number }): TensorShape[] {
  const { hidden, layers, intermediate, vocab } = size;
  const tensors: TensorShape[] = [
    { name: "token_embd.weight", shape: [hidden, vocab] },
    { name: "output_norm.weight", shape: [hidden] },
    { name: "output.weight", shape: [hidden, vocab] },
  ];
  for (let layer = 0; layer < layers; layer++) {
    const block = (name: string, shape: number[]) => tensors.push({ name: `blk.${layer}.${name}.weight`, shape });
    block("attn_norm", [hidden]);
    for (const projection of ["attn_q", "attn_k", "attn_v", "attn_output"]) block(projection, [hidden, hidden]);
    block("ffn_norm", [hidden]);
    block("ffn_gate", [hidden, intermediate]);
    block("ffn_up", [hidden, intermediate]);
    block("ffn_down", [intermediate, hidden]);
  }
  // Plain name order puts blk.10 before blk.2, unlike llama.cpp's loader: the plan must not depend on it.
  return tensors.sort((a, b) => (a.name < b.name ? -1 : 1));
}

const BILLA_7B = { hidden: 4096, layers: 32, intermediate: 11008, vocab: 46943 };
const DEMO = { hidden: 256, layers: 2, intermediate: 768, vocab: 960 };

/**
 * Layers whose attn_v and ffn_down get Q6_K in Q4_K_M and Q5_K_M, by use_more_bits for 32 layers:
 * i < 4, i >= 28, or (i - 4) % 3 == 2.
 */
const BILLA_MORE_BITS = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];

/** The expected table: `base` everywhere, norms F32, the output and the given layers' attn_v/ffn_down as listed. */
function expectedTypes(layers: number, types: { base: GgmlType; output: GgmlType; moreBits: readonly number[] }): Map<string, GgmlType> {
  const expected = new Map<string, GgmlType>([
    ["token_embd.weight", types.base],
    ["output_norm.weight", F32],
    ["output.weight", types.output],
  ]);
  for (let layer = 0; layer < layers; layer++) {
    const sensitive = types.moreBits.includes(layer) ? Q6_K : types.base;
    for (const name of ["attn_norm", "ffn_norm"]) expected.set(`blk.${layer}.${name}.weight`, F32);
    for (const name of ["attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"]) expected.set(`blk.${layer}.${name}.weight`, types.base);
    expected.set(`blk.${layer}.attn_v.weight`, sensitive);
    expected.set(`blk.${layer}.ffn_down.weight`, sensitive);
  }
  return expected;
}

function plan(size: typeof BILLA_7B, outputType: OutputType): Map<string, GgmlType> {
  return planTensorTypes({ tensors: llamaTensors(size), outputType, layerCount: size.layers });
}

/** Names instead of numbers, so a failure reads as a table. */
function named(types: Map<string, GgmlType>): Record<string, string> {
  return Object.fromEntries([...types].map(([name, type]) => [name, GgmlType[type]]));
}

/** llama-quantize's choices, by model and output type: tensor name → ggml type name. */
const QUANTIZED_BY_LLAMA_CPP = JSON.parse(readFileSync(join(LLAMA_CPP_REFERENCE, "quant-types.json"), "utf8")) as Record<string, Record<string, Record<string, string>>>;
const REFERENCE_SHAPES = {
  // BiLLa-7B's 32 layers: every branch of the per-layer rule that gives attn_v and ffn_down more bits.
  "layers-32": { hidden: 256, layers: 32, intermediate: 512, vocab: 960 },
  // Rows of 320 values, which 256-value k-quant blocks do not divide: the fallback types.
  "rows-320": { hidden: 320, layers: 2, intermediate: 640, vocab: 960 },
};

describe.each(Object.entries(REFERENCE_SHAPES))("as llama-quantize chose, %s", (shape, size) => {
  it.each(OUTPUT_TYPE_NAMES)("%s", (outputType) => {
    expect(named(plan(size, outputType))).toEqual(QUANTIZED_BY_LLAMA_CPP[shape]![outputType]);
  });
});

describe("BiLLa-7B's tensor types", () => {
  it.each([
    ["q4_k_m", { base: Q4_K, output: Q6_K, moreBits: BILLA_MORE_BITS }],
    ["q5_k_m", { base: Q5_K, output: Q6_K, moreBits: BILLA_MORE_BITS }],
    ["q6_k", { base: Q6_K, output: Q6_K, moreBits: [] }],
    ["q8_0", { base: Q8_0, output: Q8_0, moreBits: [] }],
    ["q4_0", { base: Q4_0, output: Q6_K, moreBits: [] }],
    ["f16", { base: F16, output: F16, moreBits: [] }],
    ["bf16", { base: BF16, output: BF16, moreBits: [] }],
  ] as const)("%s", (outputType, types) => {
    expect(named(plan(BILLA_7B, outputType))).toEqual(named(expectedTypes(BILLA_7B.layers, types)));
  });
});

describe("the demo model's tensor types", () => {
  // Two layers: n/8 = 0 and 7n/8 = 1, so only layer 1 uses more bits.
  it.each([
    ["q4_k_m", { base: Q4_K, output: Q6_K, moreBits: [1] }],
    ["q5_k_m", { base: Q5_K, output: Q6_K, moreBits: [1] }],
    ["q8_0", { base: Q8_0, output: Q8_0, moreBits: [] }],
  ] as const)("%s", (outputType, types) => {
    expect(named(plan(DEMO, outputType))).toEqual(named(expectedTypes(DEMO.layers, types)));
  });
});

describe("special cases", () => {
  const odd = (width: number, outputType: OutputType, name = "blk.0.attn_q.weight") =>
    planTensorTypes({ tensors: [{ name, shape: [width, 64] }], outputType, layerCount: 1 }).get(name);

  it("falls back to a 32-block type when 256-blocks do not fit a row, and to F16 when neither does", () => {
    expect([odd(96, "q4_k_m"), odd(96, "q5_k_m"), odd(96, "q6_k"), odd(96, "q8_0"), odd(96, "q4_0")]).toEqual([Q5_0, Q5_1, Q8_0, Q8_0, Q4_0]);
    expect([odd(100, "q4_k_m"), odd(100, "q5_k_m"), odd(100, "q6_k"), odd(100, "q8_0"), odd(100, "q4_0")]).toEqual([F16, F16, F16, F16, F16]);
    expect(odd(100, "f16")).toBe(F16);
  });

  it("gives output.weight Q8_0 when the base type's blocks do not fit its rows", () => {
    expect(odd(96, "q4_k_m", "output.weight")).toBe(Q8_0);
    expect(odd(96, "q4_0", "output.weight")).toBe(Q8_0); // Q6_K, as Q4_0's blocks fit; then Q6_K's fallback
    expect(odd(100, "q4_k_m", "output.weight")).toBe(F16);
  });

  it("quantizes tied token embeddings as the output (no output.weight)", () => {
    const tensors = llamaTensors(DEMO).filter((tensor) => tensor.name !== "output.weight");
    expect(planTensorTypes({ tensors, outputType: "q4_k_m", layerCount: 2 }).get("token_embd.weight")).toBe(Q6_K);
    expect(planTensorTypes({ tensors, outputType: "q8_0", layerCount: 2 }).get("token_embd.weight")).toBe(Q8_0);
  });
});
