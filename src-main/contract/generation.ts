// How answers are generated: sampling settings, the turns a prompt is built from, and each answer's stats.
import { z } from "zod";

/**
 * How answers are sampled. The defaults reproduce BiLLa's reference generation (Hugging Face `generate` as
 * its script calls it): temperature 0.7, top-k 50, top-p 1, no repetition penalty, up to 1024 new tokens.
 * Temperature 0 is pure greedy decoding.
 */
export const samplingSchema = z
  .object({
    temperature: z.number().min(0).max(2).default(0.7),
    topK: z.number().int().min(0).max(1000).default(50),
    topP: z.number().gt(0).max(1).default(1),
    minP: z.number().min(0).max(1).default(0),
    /** null: no penalty, as BiLLa's reference. */
    repeatPenalty: z.number().min(1).max(2).nullable().default(null),
    /** null: a fresh random seed each time. */
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).nullable().default(null),
    maxTokens: z.number().int().positive().max(32768).default(1024),
  })
  .strict();
export type Sampling = z.output<typeof samplingSchema>;

/** One finished exchange of a conversation. */
export const turnSchema = z.object({ question: z.string().max(1_000_000), answer: z.string().max(1_000_000) }).strict();
export type Turn = z.infer<typeof turnSchema>;

export const generationStatsSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  /** Prompt tokens already evaluated before (the conversation's earlier turns), not evaluated again. */
  reusedPromptTokens: z.number().int().nonnegative(),
  newTokens: z.number().int().nonnegative(),
  timeToFirstTokenMs: z.number().nonnegative().nullable(),
  tokensPerSecond: z.number().nonnegative(),
  stopReason: z.enum(["eos", "stop-text", "max-tokens", "stopped"]),
  /** Older turns left out because the conversation outgrew the context. */
  droppedTurns: z.number().int().nonnegative(),
});
export type GenerationStats = z.infer<typeof generationStatsSchema>;

/** Which llama.cpp backend to use, and how many layers to put on the GPU. */
export const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal", "cpu"] as const;
export const gpuLayersSchema = z.union([z.literal("auto"), z.literal("max"), z.number().int().nonnegative()]);
