// The ggml type of each tensor in a file of a given output type. Quantized types: what llama-quantize chooses
// (src/llama-quant.cpp) when given the f16 GGUF that convert_hf_to_gguf writes. f16 and bf16: what
// convert_hf_to_gguf itself chooses. BiLLa is a 7B LLaMA, so llama.cpp's rules for 70B models, Falcon, experts,
// importance matrices and the IQ/TQ/Q2/Q3 types never apply and are left out.
import { GGML_BLOCK, GgmlType, LlamaFileType, OUTPUT_TYPES, type OutputType } from "../gguf/gguf-types.js";

export interface TensorShape {
  /** GGUF name, e.g. `blk.3.attn_v.weight`. */
  name: string;
  /** GGUF order, innermost first: `[n_per_row, n_rows]`. */
  shape: readonly number[];
}

export interface MixInput {
  /** Every tensor of the file: the choice for one depends on the others. */
  tensors: readonly TensorShape[];
  outputType: OutputType;
  /** The model's block count (`llama.block_count`). */
  layerCount: number;
}

/** convert_hf_to_gguf keeps 1-D tensors, norms and anything that is not a `.weight` in F32. */
function convertType({ name, shape }: TensorShape, floatType: GgmlType): GgmlType {
  return shape.length <= 1 || name.endsWith("_norm.weight") || !name.endsWith(".weight") ? GgmlType.F32 : floatType;
}

/** tensor_allows_quantization; its other exclusions name tensors LLaMA does not have. */
function allowsQuantization({ name, shape }: TensorShape): boolean {
  return shape.length >= 2 && name.endsWith("weight") && !name.includes("_norm.weight");
}

/** The tensors llama.cpp treats as attn_v (category_is_attn_v). */
function isAttentionV(name: string): boolean {
  return ["attn_qkv.weight", "attn_kv_b.weight", "attn_v.weight"].some((part) => name.includes(part));
}

function layerOf(name: string): number {
  const match = /^blk\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : -1;
}

/** llama.cpp's loader visits tensors by layer (tensors of no layer first), then by name; its counters follow that. */
function llamaCppOrder(a: TensorShape, b: TensorShape): number {
  return layerOf(a.name) - layerOf(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between. */
function usesMoreBits(layer: number, layerCount: number): boolean {
  const eighth = Math.trunc(layerCount / 8);
  return layer < eighth || layer >= Math.trunc((7 * layerCount) / 8) || (layer - eighth) % 3 === 2;
}

/** tensor_type_fallback: a 256-block type whose blocks do not fit a row drops to a 32-block type, then to F16. */
const SMALLER_BLOCKS: Partial<Record<GgmlType, GgmlType>> = {
  [GgmlType.Q4_K]: GgmlType.Q5_0,
  [GgmlType.Q5_K]: GgmlType.Q5_1,
  [GgmlType.Q6_K]: GgmlType.Q8_0,
};

function fitRow(type: GgmlType, rowLength: number): GgmlType {
  if (rowLength % GGML_BLOCK[type].elements === 0) return type;
  const fallback = SMALLER_BLOCKS[type] ?? type;
  return rowLength % GGML_BLOCK[fallback].elements === 0 ? fallback : GgmlType.F16;
}

/** Every tensor's ggml type, by name. */
export function planTensorTypes({ tensors, outputType, layerCount }: MixInput): Map<string, GgmlType> {
  const { fileType, baseType } = OUTPUT_TYPES[outputType];
  if (outputType === "f16" || outputType === "bf16") return new Map(tensors.map((tensor) => [tensor.name, convertType(tensor, baseType)]));

  const tiedEmbeddings = !tensors.some((tensor) => tensor.name === "output.weight");
  const attentionVCount = tensors.filter((tensor) => isAttentionV(tensor.name)).length;
  const mixesMoreBits = fileType === LlamaFileType.MOSTLY_Q4_K_M || fileType === LlamaFileType.MOSTLY_Q5_K_M;
  let attentionVSeen = 0;
  let ffnDownSeen = 0;

  // llama_tensor_get_type_impl, for the output types we offer.
  const mixType = ({ name, shape }: TensorShape): GgmlType => {
    if (name === "output.weight" || (tiedEmbeddings && name === "token_embd.weight")) {
      if (shape[0]! % GGML_BLOCK[baseType].elements !== 0) return GgmlType.Q8_0;
      return baseType === GgmlType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
    }
    if (name === "token_embd.weight") return baseType;
    if (isAttentionV(name)) {
      const visit = attentionVSeen++;
      return mixesMoreBits && usesMoreBits(visit, attentionVCount) ? GgmlType.Q6_K : baseType;
    }
    if (name.includes("ffn_down")) {
      const visit = ffnDownSeen++;
      return mixesMoreBits && usesMoreBits(visit, layerCount) ? GgmlType.Q6_K : baseType;
    }
    return baseType;
  };

  const types = new Map<string, GgmlType>();
  for (const tensor of [...tensors].sort(llamaCppOrder)) {
    // A tensor llama-quantize leaves alone keeps the type convert_hf_to_gguf gave it in the f16 file.
    const type = allowsQuantization(tensor) ? fitRow(mixType(tensor), tensor.shape[0]!) : convertType(tensor, GgmlType.F16);
    types.set(tensor.name, type);
  }
  return types;
}
