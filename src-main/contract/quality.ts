// What quantization costs a model, measured as llama.cpp's llama-perplexity measures it: perplexity on an
// evaluation text, drift (KL divergence and friends) against a base file of the same model, and the same
// questions answered side by side by several models.
import { z } from "zod";
import { generationStatsSchema } from "./generation.js";

const id = z.string().min(1).max(200);
const byteCount = z.number().int().nonnegative();

/** The evaluation texts shipped with the app (resources/eval-texts): one Chinese, one English. */
export const BUILTIN_TEXTS = ["zh", "en"] as const;
export type BuiltinText = (typeof BUILTIN_TEXTS)[number];

/** A shipped text, or any UTF-8 text file. */
export const evalTextSchema = z.union([z.object({ builtin: z.enum(BUILTIN_TEXTS) }).strict(), z.object({ file: z.string().min(1).max(4096) }).strict()]);
export type EvalText = z.infer<typeof evalTextSchema>;

/** The context size llama-perplexity uses unless told otherwise. */
export const DEFAULT_QUALITY_CONTEXT = 512;

/** llama-perplexity's "Final estimate": PPL = exp(mean NLL) ± its standard error, over the tokens scored. */
export const perplexitySchema = z.object({
  perplexity: z.number().positive(),
  /** The ± of the estimate (llama.cpp's standard error of the mean NLL, times the perplexity). */
  error: z.number().nonnegative(),
  meanNll: z.number(),
  tokensScored: z.number().int().positive(),
  chunks: z.number().int().positive(),
});
export type Perplexity = z.infer<typeof perplexitySchema>;

/** llama-perplexity --kl-divergence's statistics against the base, each with its ± uncertainty. */
export const driftSchema = z.object({
  baseName: z.string(),
  basePath: z.string(),
  baseFileType: z.string().nullable(),
  meanKld: z.number(),
  meanKldError: z.number().nonnegative(),
  /** How often the model's most likely next token is the base's, in percent. */
  sameTopPercent: z.number().min(0).max(100),
  sameTopError: z.number().nonnegative(),
  /** Root mean square of the change in the probability of the right next token, in percent. */
  rmsDeltaPercent: z.number().nonnegative(),
  rmsDeltaError: z.number().nonnegative(),
  /** How many of the base's most likely tokens per position were kept to compute the KL divergence. */
  topK: z.number().int().positive(),
});
export type Drift = z.infer<typeof driftSchema>;

export const qualityTextInfoSchema = z.object({
  /** "builtin:zh", "builtin:en" or "file:<name>". */
  id: z.string(),
  name: z.string(),
  sha256: z.string(),
  /** Tokens of the whole text, BOS included (as llama-perplexity counts them). */
  tokens: z.number().int().nonnegative(),
});

export const qualityMeasurementSchema = z.object({
  /** The library entry measured; null for a file given by path that is not in the library (not stored). */
  modelId: id.nullable(),
  modelName: z.string(),
  modelPath: z.string(),
  fileType: z.string().nullable(),
  sizeBytes: byteCount,
  /** RAM node-llama-cpp estimated for the model with this context, when measured. */
  ramBytes: byteCount,
  text: qualityTextInfoSchema,
  contextSize: z.number().int().positive(),
  result: perplexitySchema,
  /** null without a base to compare with. */
  drift: driftSchema.nullable(),
  appVersion: z.string(),
  measuredAt: z.string(),
  seconds: z.number().nonnegative(),
});
export type QualityMeasurement = z.infer<typeof qualityMeasurementSchema>;

/** What a measurement will need, known before it starts. */
export const qualityPlanEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  fileType: z.string().nullable(),
  ramBytes: byteCount,
  vramBytes: byteCount,
  fit: z.enum(["fits", "fits-partly-on-gpu", "does-not-fit"]),
  /** The base's logits are already cached for every text: it is not loaded at all. */
  cached: z.boolean().optional(),
});
export const qualityPlanSchema = z.object({
  models: z.array(qualityPlanEntrySchema),
  base: qualityPlanEntrySchema.nullable(),
  freeRamBytes: byteCount,
  /** Why there is no base, or other things to know before starting. */
  notes: z.array(z.string()),
});
export type QualityPlan = z.infer<typeof qualityPlanSchema>;

export const qualityReportSchema = z.object({ measurements: z.array(qualityMeasurementSchema), plan: qualityPlanSchema, seconds: z.number().nonnegative() });
export type QualityReport = z.infer<typeof qualityReportSchema>;

export const QUALITY_PHASES = ["base", "model"] as const;
export const qualityProgressSchema = z.object({
  jobId: id,
  /** "base": computing the base's logits for the cache; "model": measuring a model. */
  phase: z.enum(QUALITY_PHASES),
  modelName: z.string(),
  textName: z.string(),
  /** Positions scored so far and in all, over the whole job. */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** null until the speed is known. */
  etaSeconds: z.number().nonnegative().nullable(),
});
export type QualityProgress = z.infer<typeof qualityProgressSchema>;

const failure = z.object({ code: z.string(), message: z.string() });

/** One question answered by every model of a comparison, in the comparison's model order. */
export const comparisonSchema = z.object({
  models: z.array(z.object({ modelId: id.nullable(), name: z.string(), path: z.string(), fileType: z.string().nullable() })).min(1).max(16),
  questions: z
    .array(
      z.object({
        id: z.union([z.string().max(200), z.number()]),
        text: z.string().max(100_000),
        answers: z.array(z.object({ text: z.string().max(1_000_000), stats: generationStatsSchema })),
      }),
    )
    .max(1000),
  appVersion: z.string(),
  createdAt: z.string(),
});
export type Comparison = z.infer<typeof comparisonSchema>;

export const qualityEvents = {
  /** A quality measurement moving on: `done` of `total` positions scored. */
  "quality.progress": qualityProgressSchema,
  /** A measurement ended: its report, or why it failed (`cancelled` when stopped; nothing half-done is kept). */
  "quality.finished": z.object({
    jobId: id,
    outcome: z.discriminatedUnion("ok", [z.object({ ok: z.literal(true), report: qualityReportSchema }), z.object({ ok: z.literal(false), error: failure })]),
  }),
  /** One answer of a side-by-side comparison. */
  "quality.answer": z.object({ jobId: id, questionIndex: z.number().int().nonnegative(), modelIndex: z.number().int().nonnegative(), text: z.string() }),
  /** A comparison ended: every answer, or why it failed. */
  "quality.compared": z.object({
    jobId: id,
    outcome: z.discriminatedUnion("ok", [z.object({ ok: z.literal(true), comparison: comparisonSchema }), z.object({ ok: z.literal(false), error: failure })]),
  }),
} as const satisfies Record<string, z.ZodType>;
