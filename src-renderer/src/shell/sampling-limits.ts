// The sampling settings' limits, as the contract's samplingSchema checks them, and BiLLa's reference values.
// The Settings page (defaults for new conversations) and a conversation's own settings panel both check typed
// values against these before sending them; the services check them again.
import type { Sampling } from "../../../src-main/contract/api.js";

export interface SamplingLimit {
  min: number;
  max: number;
  step: number;
  integer: boolean;
  /** The minimum itself is not allowed (top-p must be above 0). */
  exclusiveMin?: boolean;
  /** The name llama.cpp and Hugging Face use, for people who know it. */
  term: string;
}

export const SAMPLING_LIMITS: Record<keyof Sampling, SamplingLimit> = {
  temperature: { min: 0, max: 2, step: 0.05, integer: false, term: "temperature" },
  topK: { min: 0, max: 1000, step: 1, integer: true, term: "top_k" },
  topP: { min: 0, max: 1, step: 0.01, integer: false, exclusiveMin: true, term: "top_p" },
  minP: { min: 0, max: 1, step: 0.01, integer: false, term: "min_p" },
  repeatPenalty: { min: 1, max: 2, step: 0.05, integer: false, term: "repeat_penalty" },
  seed: { min: 0, max: 2 ** 32 - 1, step: 1, integer: true, term: "seed" },
  maxTokens: { min: 1, max: 32768, step: 1, integer: true, term: "max_tokens" },
};

export function withinLimit(limit: SamplingLimit, value: number): boolean {
  if (!Number.isFinite(value) || value > limit.max || (limit.integer && !Number.isInteger(value))) return false;
  return limit.exclusiveMin ? value > limit.min : value >= limit.min;
}

/** BiLLa's reference generation (Hugging Face `generate` as its script calls it): the contract's defaults. */
export const BILLA_SAMPLING: Sampling = { temperature: 0.7, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 };
