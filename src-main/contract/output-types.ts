// The GGUF output types a conversion can write, and how big each file comes out. Pure data shared by the
// wizard (its size table) and the services (the free-space check before a download), so both estimate alike.

export const OUTPUT_TYPE_NAMES = ["f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"] as const;
export type OutputTypeName = (typeof OUTPUT_TYPE_NAMES)[number];

/** What most people should pick. */
export const RECOMMENDED_TYPE: OutputTypeName = "q4_k_m";

/**
 * Average bits per weight, including each type's per-block scales:
 * - f16 / bf16: 16 bits, no scales.
 * - q8_0: 32 int8 weights + one f16 scale per block = (32×8 + 16) / 32 = 8.5.
 * - q6_k: 256-weight super-blocks of 6-bit weights with 8-bit sub-block scales and an f16 scale
 *   = 210 bytes / 256 weights = 6.5625.
 * - q5_k_m, q4_k_m: the "_m" mixes keep about half the attention-value and feed-forward-down tensors in
 *   q6_k, so llama.cpp's own figures for a 7B LLaMA (4.78 GB and 4.08 GB for 6.74 B weights) give
 *   ≈5.69 and ≈4.85 bits; the pure q5_k / q4_k would be 5.5 and 4.5.
 * - q4_0: 32 4-bit weights + an f16 scale = (32×4 + 16) / 32 = 4.5.
 */
export const BITS_PER_WEIGHT: Record<OutputTypeName, number> = {
  f16: 16,
  bf16: 16,
  q8_0: 8.5,
  q6_k: 6.5625,
  q5_k_m: 5.69,
  q4_k_m: 4.85,
  q4_0: 4.5,
};

/** Estimated from the parameter count times the type's average bits per weight; nothing is measured. */
export function estimatedFileBytes(type: OutputTypeName, parameters: number): number {
  return Math.round((parameters * BITS_PER_WEIGHT[type]) / 8);
}
