import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ConversionReport, EventMessage, RawApi, RequestInput } from "../../src-main/contract/api.js";
import { DEMO_DIR } from "../../src-main/services/app-root.js";

export const DEMO = {
  released: join(DEMO_DIR, "billa-demo"),
  restored: join(DEMO_DIR, "billa-demo-restored"),
  originalPth: join(DEMO_DIR, "llama-original", "consolidated.00.pth"),
};

export interface GoldenCase {
  id: string;
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
