// What each output type costs, for step 3's table. File sizes come from the contract's table of bits per
// weight (the services estimate a download's room for the conversion with the same one).
import type { OutputTypeName } from "../../../src-main/contract/api.js";
import { estimatedFileBytes, RECOMMENDED_TYPE } from "../../../src-main/contract/output-types.js";

export { estimatedFileBytes, RECOMMENDED_TYPE };

/** Offered from best quality to smallest; q4_k_m is what most people should pick. */
export const OUTPUT_TYPE_ORDER: readonly OutputTypeName[] = ["f16", "bf16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"];

export interface ModelShape {
  parameters: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
}

/**
 * Memory to chat with the file: the weights, plus the f16 key/value cache for `contextSize` tokens
 * (2 tensors × layers × tokens × key/value width × 2 bytes), plus ~10 % for llama.cpp's compute buffers.
 */
export function estimatedMemoryBytes(type: OutputTypeName, shape: ModelShape, contextSize: number): number {
  const kvWidth = shape.heads > 0 ? (shape.hidden * shape.kvHeads) / shape.heads : shape.hidden;
  const kvCache = 2 * shape.layers * contextSize * kvWidth * 2;
  return Math.round((estimatedFileBytes(type, shape.parameters) + kvCache) * 1.1);
}
