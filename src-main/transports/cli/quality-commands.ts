// `billa quality` (what quantization costs: perplexity as llama-perplexity computes it, and drift from a base) and
// `billa compare` (the same questions answered by several models, side by side).
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { Option, type Command } from "commander";
import { BUILTIN_TEXTS, EXPORT_FORMATS, type BuiltinText, type Comparison, type EvalText, type ExportFormat, type QualityMeasurement, type QualityPlan, type QualityReport, type RequestInput } from "../../contract/api.js";
import { readQuestions } from "./chat-commands.js";
import { CliError, numberFlag, printJson, request, withApi } from "./cli-support.js";
import { duration, followJob, ProgressPrinter } from "./job-progress.js";

const collect = (value: string, previous: string[]) => [...previous, value];
const gib = (bytes: number) => (bytes < 1024 ** 3 ? `${Math.ceil(bytes / 1024 ** 2)} MiB` : `${(bytes / 1024 ** 3).toFixed(1)} GiB`);
/** Columns a terminal gives a string: CJK and full-width characters take two. */
const displayWidth = (text: string) => [...text].reduce((width, char) => width + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(char) ? 2 : 1), 0);

function gpuLayersOf(value: string): RequestInput<"quality.measure">["gpuLayers"] {
  return value === "auto" || value === "max" ? value : numberFlag("--gpu-layers", { integer: true, min: 0 })(value);
}

function textOf(value: string): EvalText {
  return (BUILTIN_TEXTS as readonly string[]).includes(value) ? { builtin: value as BuiltinText } : { file: value };
}

/** What the run needs, before it starts: memory of each model and of the base, and why a number will be missing. */
function printPlan(plan: QualityPlan): void {
  const lines = plan.models.map((model) => `  ${model.name} (${model.fileType ?? "?"}): about ${gib(model.ramBytes)} of memory${model.vramBytes > 0 ? `, ${gib(model.vramBytes)} on the GPU` : ""}`);
  if (plan.base) {
    lines.push(
      plan.base.cached
        ? `  base ${plan.base.name} (${plan.base.fileType ?? "?"}): its logits are cached, it is not loaded`
        : `  base ${plan.base.name} (${plan.base.fileType ?? "?"}): about ${gib(plan.base.ramBytes)} of memory, loaded once; its logits are then cached`,
    );
  }
  process.stderr.write(`Memory needed, one model at a time (${gib(plan.freeRamBytes)} free now):\n${lines.join("\n")}\n`);
  for (const note of plan.notes) process.stderr.write(`note: ${note}\n`);
  const tooBig = [...plan.models, ...(plan.base && !plan.base.cached ? [plan.base] : [])].filter((model) => model.fit === "does-not-fit");
  for (const model of tooBig) process.stderr.write(`warning: ${model.name} may not fit this computer's memory.\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column]!))));
  return rows.map((row) => row.map((cell, column) => cell + " ".repeat(widths[column]! - displayWidth(cell))).join("  ").trimEnd()).join("\n");
}

function printMeasurements(measurements: QualityMeasurement[]): void {
  const digits = (value: number) => (value >= 100 ? 2 : 4);
  const rows = [
    ["model", "type", "text", "context", "scored", "perplexity", "KL divergence", "same top", "RMS Δp"],
    ...measurements.map((m) => [
      m.modelName,
      m.fileType ?? "?",
      m.text.name,
      String(m.contextSize),
      String(m.result.tokensScored),
      `${m.result.perplexity.toFixed(digits(m.result.perplexity))} ± ${m.result.error.toFixed(digits(m.result.perplexity))}`,
      m.drift ? `${m.drift.meanKld.toFixed(6)} ± ${m.drift.meanKldError.toFixed(6)}` : "—",
      m.drift ? `${m.drift.sameTopPercent.toFixed(2)} %` : "—",
      m.drift ? `${m.drift.rmsDeltaPercent.toFixed(3)} %` : "—",
    ]),
  ];
  process.stdout.write(`${table(rows)}\n`);
}

/** Written whole under a temporary name, then renamed: an interrupted run never leaves half a file. */
async function writeWhole(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.partial-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CliError(`${path} could not be written: ${(error as Error).message}`);
  }
}

function formatOf(out: string, format: string | undefined): ExportFormat {
  const chosen = format ?? extname(out).slice(1).toLowerCase();
  return (EXPORT_FORMATS as readonly string[]).includes(chosen) ? (chosen as ExportFormat) : "jsonl";
}

export function addQualityCommands(program: Command): void {
  program
    .command("quality")
    .description("measure what quantization costs: perplexity of each model (as llama-perplexity computes it) and its drift from a base file (KL divergence, same top token, RMS Δp)")
    .option("--model-path <file>", "a GGUF to measure; repeat for more", collect, [])
    .option("--base <file>", "the F16, BF16 or Q8_0 GGUF to compare with (default: such a file of the same model in the library); none for no comparison")
    .option("--text <text>", "zh, en (the texts shipped with the app) or a UTF-8 text file; repeat for more (default: zh and en)", collect, [])
    .option("--context-size <tokens>", "the context size (llama-perplexity's -c)", numberFlag("--context-size", { integer: true, min: 16 }), 512)
    .option("--chunks <n>", "only the first N chunks of each text (llama-perplexity's --chunks): quicker, rougher", numberFlag("--chunks", { integer: true, min: 1 }))
    .option("--gpu-layers <layers>", "layers on the GPU: auto, max or a number", "auto")
    .option("--json", "print the report as JSON")
    .action((flags: { modelPath: string[]; base?: string; text: string[]; contextSize: number; chunks?: number; gpuLayers: string; json?: boolean }) =>
      withApi(program, async (api) => {
        if (flags.modelPath.length === 0) throw new CliError("Give at least one model: --model-path A.gguf [--model-path B.gguf …]");
        const printer = new ProgressPrinter(process.stderr);
        let notesBefore = 0;
        const report = await followJob<QualityReport>(
          api,
          async () => {
            const started = await request(api, "quality.measure", {
              models: flags.modelPath.map((modelPath) => ({ modelPath })),
              base: flags.base === undefined ? "auto" : flags.base === "none" ? "none" : { modelPath: flags.base },
              ...(flags.text.length > 0 ? { texts: flags.text.map(textOf) } : {}),
              contextSize: flags.contextSize,
              ...(flags.chunks === undefined ? {} : { chunks: flags.chunks }),
              gpuLayers: gpuLayersOf(flags.gpuLayers),
            });
            printPlan(started.plan);
            notesBefore = started.plan.notes.length;
            return started;
          },
          "quality.cancel",
          (event) => {
            if (event.name === "quality.progress") {
              const { phase, modelName, textName, done, total, etaSeconds } = event.payload;
              const what = phase === "base" ? `base ${modelName}: caching its logits` : modelName;
              const eta = etaSeconds === null ? "" : `, ${duration(etaSeconds)} left`;
              printer.line(`${Math.floor((100 * done) / Math.max(1, total))}% ${what} on ${textName} (${done}/${total} tokens${eta})`, done / Math.max(1, total), `${phase}:${modelName}:${textName}`);
            }
            if (event.name !== "quality.finished") return null;
            printer.end();
            return event.payload.outcome.ok ? { done: event.payload.outcome.report } : { failed: event.payload.outcome.error };
          },
        );
        if (flags.json) printJson(report);
        else printMeasurements(report.measurements);
        // Found while measuring (e.g. a model that tokenizes a text differently from the base).
        for (const note of report.plan.notes.slice(notesBefore)) process.stderr.write(`note: ${note}\n`);
      }),
    );

  program
    .command("compare")
    .description("answer a question file with two or more models at temperature 0, side by side")
    .option("--model-path <file>", "a GGUF to answer with; repeat for each model (two or more)", collect, [])
    .requiredOption("--question-file <file>", "jsonl with question_id and text per line")
    .requiredOption("--out <file>", "where to write the answers")
    .addOption(new Option("--format <format>", "the file's format (default: from --out's extension, else jsonl: BiLLa's answer-file fields plus the model)").choices(EXPORT_FORMATS))
    .option("--max-new-tokens <n>", "the longest answer", numberFlag("--max-new-tokens", { integer: true, min: 1 }), 1024)
    .option("--gpu-layers <layers>", "layers on the GPU: auto, max or a number", "auto")
    .action((flags: { modelPath: string[]; questionFile: string; out: string; format?: ExportFormat; maxNewTokens: number; gpuLayers: string }) =>
      withApi(program, async (api) => {
        if (flags.modelPath.length < 2) throw new CliError("Give two or more models to compare: --model-path A.gguf --model-path B.gguf");
        const { questions, problems } = readQuestions(flags.questionFile);
        for (const problem of problems) process.stderr.write(`${flags.questionFile} ${problem}\n`);
        if (questions.length === 0) throw new CliError(`${flags.questionFile} has no questions (one JSON line each: {"question_id": 1, "text": "…"}).`);
        const total = questions.length * flags.modelPath.length;
        let answered = 0;
        const comparison = await followJob<Comparison>(
          api,
          () =>
            request(api, "quality.compare", {
              models: flags.modelPath.map((modelPath) => ({ modelPath })),
              questions: questions.map(({ id, text }) => ({ id, text })),
              maxTokens: flags.maxNewTokens,
              gpuLayers: gpuLayersOf(flags.gpuLayers),
            }),
          "quality.cancel",
          (event) => {
            if (event.name === "quality.answer") {
              answered++;
              process.stderr.write(`[${answered}/${total}] ${basename(flags.modelPath[event.payload.modelIndex]!)} answered question ${String(questions[event.payload.questionIndex]!.id)}\n`);
            }
            if (event.name !== "quality.compared") return null;
            return event.payload.outcome.ok ? { done: event.payload.outcome.comparison } : { failed: event.payload.outcome.error };
          },
        );
        const file = await request(api, "quality.exportComparison", { comparison, format: formatOf(flags.out, flags.format) });
        await writeWhole(flags.out, file.content);
        process.stderr.write(`Wrote ${flags.out}.\n`);
      }),
    );
}
