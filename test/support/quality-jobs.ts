import type { Comparison, EventMessage, QualityPlan, QualityProgress, QualityReport, RawApi, RequestInput } from "../../src-main/contract/api.js";

type Failure = { code: string; message: string };

/** Starts a job and waits for its ending event; every event of the job is kept. */
async function runJob<T>(
  api: RawApi,
  start: () => Promise<{ jobId: string }>,
  ending: (event: EventMessage, jobId: string) => { ok: true; value: T } | { ok: false; error: Failure } | null,
  onEvent: (event: EventMessage, jobId: string) => void,
): Promise<{ jobId: string; outcome: { ok: true; value: T } | { ok: false; error: Failure }; events: EventMessage[] }> {
  const events: EventMessage[] = [];
  let jobId = "";
  let finish: (outcome: { ok: true; value: T } | { ok: false; error: Failure }) => void = () => undefined;
  const finished = new Promise<{ ok: true; value: T } | { ok: false; error: Failure }>((resolve) => (finish = resolve));
  const unsubscribe = api.subscribe((event) => {
    events.push(event);
    onEvent(event, jobId);
    const outcome = jobId ? ending(event, jobId) : null;
    if (outcome) finish(outcome);
  });
  try {
    jobId = (await start()).jobId;
    for (const event of events) {
      const outcome = ending(event, jobId);
      if (outcome) finish(outcome);
    }
    return { jobId, outcome: await finished, events };
  } finally {
    unsubscribe();
  }
}

async function invoke<T>(api: RawApi, name: string, input: unknown): Promise<T> {
  const envelope = await api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(`${envelope.error.code}: ${envelope.error.message}`), { code: envelope.error.code });
  return envelope.value as T;
}

export async function measureQuality(api: RawApi, input: RequestInput<"quality.measure">, onEvent: (event: EventMessage, jobId: string) => void = () => undefined) {
  let plan: QualityPlan | null = null;
  const run = await runJob<QualityReport>(
    api,
    async () => {
      const started = await invoke<{ jobId: string; plan: QualityPlan }>(api, "quality.measure", input);
      plan = started.plan;
      return started;
    },
    (event, jobId) => (event.name === "quality.finished" && event.payload.jobId === jobId ? (event.payload.outcome.ok ? { ok: true, value: event.payload.outcome.report } : { ok: false, error: event.payload.outcome.error }) : null),
    onEvent,
  );
  const progress = run.events.flatMap((event): QualityProgress[] => (event.name === "quality.progress" && event.payload.jobId === run.jobId ? [event.payload] : []));
  return { ...run, plan: plan!, progress };
}

export async function compareAnswers(api: RawApi, input: RequestInput<"quality.compare">) {
  return runJob<Comparison>(
    api,
    () => invoke<{ jobId: string }>(api, "quality.compare", input),
    (event, jobId) => (event.name === "quality.compared" && event.payload.jobId === jobId ? (event.payload.outcome.ok ? { ok: true, value: event.payload.outcome.comparison } : { ok: false, error: event.payload.outcome.error }) : null),
    () => undefined,
  );
}

export function reportOf<T>(outcome: { ok: true; value: T } | { ok: false; error: Failure }): T {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}
