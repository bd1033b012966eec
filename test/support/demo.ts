import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ConversionReport, EventMessage, RawApi, RequestInput } from "../../src-main/contract/api.js";
import { APP_ROOT, DEMO_DIR } from "../../src-main/services/app-root.js";

export const DEMO = {
  released: join(DEMO_DIR, "billa-demo"),
  restored: join(DEMO_DIR, "billa-demo-restored"),
  originalPth: join(DEMO_DIR, "llama-original", "consolidated.00.pth"),
};

/**
 * The restored demo converted by llama.cpp's own convert_hf_to_gguf.py and llama-quantize
 * (scripts/make-llama-cpp-reference.sh): GGUFs this app did not write, with no billa.* keys and no chat template.
 */
export const LLAMA_CPP_REFERENCE = join(APP_ROOT, "test", "fixtures", "llama-cpp-reference");
export const llamaCppGguf = (outType: string) => join(LLAMA_CPP_REFERENCE, `billa-demo-${outType}.gguf`);

export interface GoldenCase {
  id: string;
  /** The conversation: earlier turns with their answers, then the question answered greedily. */
  turns: { question: string; answer?: string }[];
  prompt: string;
  prompt_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
}

export const golden = JSON.parse(readFileSync(join(DEMO_DIR, "golden.json"), "utf8")) as {
  eos_id: number;
  n_vocab_original: number;
  n_vocab_tokenizer: number;
  config_vocab_size: number;
  restored_embedding_sum_f64: number;
  /** Where BiLLa's checksum is taken: the float32 sum after subtracting, before `.half()`. */
  restored_embedding_prehalf_sum_f64: number;
  /** torch's own decrypt with the released embedding and the original cast to each dtype. */
  restore_variants: {
    released_dtype: "F32" | "F16" | "BF16";
    original_dtype: "F32" | "F16" | "BF16";
    released_sha256: string;
    original_sha256: string;
    restored_f16_sha256: string;
    restored_prehalf_sum_f64: number;
  }[];
  cases: GoldenCase[];
};

export type JobOutcome = Extract<EventMessage, { name: "conversion.finished" }>["payload"]["outcome"];

/** Runs one conversion job through the API and collects what it emitted. */
export async function runJob(
  api: RawApi,
  name: "conversion.start" | "conversion.restore",
  input: RequestInput<"conversion.start"> | RequestInput<"conversion.restore">,
  onEvent: (event: EventMessage, jobId: string) => void = () => undefined,
): Promise<{ outcome: JobOutcome; events: EventMessage[] }> {
  const events: EventMessage[] = [];
  let jobId = "";
  let finish: (outcome: JobOutcome) => void = () => undefined;
  const finished = new Promise<JobOutcome>((resolve) => (finish = resolve));
  const unsubscribe = api.subscribe((event) => {
    events.push(event);
    onEvent(event, jobId);
    if (event.name === "conversion.finished" && event.payload.jobId === jobId) finish(event.payload.outcome);
  });
  try {
    const started = await api.invoke(name, input);
    if (!started.ok) throw new Error(`${name} refused: ${started.error.message}`);
    jobId = (started.value as { jobId: string }).jobId;
    const early = events.find((event) => event.name === "conversion.finished" && event.payload.jobId === jobId);
    if (early?.name === "conversion.finished") finish(early.payload.outcome);
    return { outcome: await finished, events };
  } finally {
    unsubscribe();
  }
}

export function reportOf(outcome: JobOutcome): ConversionReport {
  if (!outcome.ok) throw new Error(`conversion failed: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.report;
}
