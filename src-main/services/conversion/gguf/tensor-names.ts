// Hugging Face LLaMA tensor names → GGUF names, in the order a LlamaForCausalLM state dict lists them,
// which is also the order we write them (so every input layout gives the same file).
import { sharedBuffer } from "../tensor.js";

const LAYER_PARTS: readonly (readonly [hf: string, gguf: string])[] = [
  ["self_attn.q_proj.weight", "attn_q.weight"],
  ["self_attn.k_proj.weight", "attn_k.weight"],
  ["self_attn.v_proj.weight", "attn_v.weight"],
  ["self_attn.o_proj.weight", "attn_output.weight"],
  ["mlp.gate_proj.weight", "ffn_gate.weight"],
  ["mlp.up_proj.weight", "ffn_up.weight"],
  ["mlp.down_proj.weight", "ffn_down.weight"],
  ["input_layernorm.weight", "attn_norm.weight"],
  ["post_attention_layernorm.weight", "ffn_norm.weight"],
];

export interface TensorNaming {
  hf: string;
  gguf: string;
  /** HF q_proj/k_proj rows are reordered for llama.cpp's RoPE (see permuteHeadRows). */
  permuteForRope: boolean;
}

export function llamaTensorNames(blockCount: number, hasOutput: boolean): TensorNaming[] {
  const names: TensorNaming[] = [{ hf: "model.embed_tokens.weight", gguf: "token_embd.weight", permuteForRope: false }];
  for (let i = 0; i < blockCount; i++) {
    for (const [hf, gguf] of LAYER_PARTS) {
      const permuteForRope = hf.startsWith("self_attn.q_proj") || hf.startsWith("self_attn.k_proj");
      names.push({ hf: `model.layers.${i}.${hf}`, gguf: `blk.${i}.${gguf}`, permuteForRope });
    }
  }
  names.push({ hf: "model.norm.weight", gguf: "output_norm.weight", permuteForRope: false });
  if (hasOutput) names.push({ hf: "lm_head.weight", gguf: "output.weight", permuteForRope: false });
  return names;
}

/** Checkpoint entries that are not weights: recomputed by every runtime, never converted. */
export function isIgnoredTensor(hfName: string): boolean {
  return hfName.endsWith(".rotary_emb.inv_freq");
}

/**
 * llama.cpp's rotary embedding pairs adjacent rows of each head; Hugging Face's pairs the two halves.
 * Row h·d + 2i + j of the result is row h·d + j·d/2 + i of the input (d = head size, i < d/2, j ∈ {0, 1}).
 * `rows` holds whole heads of `rowBytes` each; the result goes to `into` when given.
 */
export function permuteHeadRows(rows: Buffer, rowBytes: number, headSize: number, into?: Buffer): Buffer {
  const out = into ? into.subarray(0, rows.length) : sharedBuffer(rows.length);
  const rowCount = rows.length / rowBytes;
  const half = headSize / 2;
  for (let head = 0; head * headSize < rowCount; head++) {
    const base = head * headSize;
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (base + j * half + i) * rowBytes;
        rows.copy(out, (base + 2 * i + j) * rowBytes, from, from + rowBytes);
      }
    }
  }
  return out;
}
