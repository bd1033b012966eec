// node-llama-cpp's bare decode speed: one sequence, greedy, token after token through LlamaContextSequence.evaluate,
// no chat wrapper, no detokenizing. Measures what llama-bench's `-p 0 -n N` (tg N) measures, so the two compare:
// the prompt (a BOS by default) is evaluated first and excluded, then N generated tokens are timed.
//
//   npx tsx bench/generate/bare-decode.ts [--model X.gguf] [--threads default,1,2] [--tokens 128] [--repeats 3]
//       [--max-threads N] [--batch-size N] [--json]
// Without --model it writes the synthetic 134M Q4_K_M model (bench/support/synthetic-gguf.ts) to a temporary file.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, type Llama, type LlamaContextOptions, type LlamaContextSequence, type LlamaModel, type LlamaOptions, type Token } from "node-llama-cpp";
import { SYNTHETIC_134M, writeSyntheticLlamaGguf } from "../support/synthetic-gguf.js";

export interface BareDecodeOptions {
  /**
   * Passed to createContext as `threads` (a plain number: exactly this many, unless the Llama's maxThreads caps it);
   * "default" passes none, so node-llama-cpp picks (its maxThreads: max(4, cpuMathCores) on CPU).
   */
  threads: number | "default";
  /** Generated tokens timed per run (llama-bench's -n). */
  tokens?: number;
  /** Timed runs; each starts from an empty context, after one untimed warm-up run. */
  repeats?: number;
  /** Tokens evaluated before generation, untimed; a lone BOS by default (llama-bench's tg starts from none). */
  prompt?: readonly Token[];
  contextSize?: number;
  /** Any other createContext options (batchSize, flashAttention, …). */
  context?: Omit<LlamaContextOptions, "contextSize" | "threads">;
}

export interface BareDecodeResult {
  threads: number | "default";
  /** What the context reports using: node-llama-cpp may cap `threads` with the Llama's maxThreads. */
  contextThreads: number;
  tokens: number;
  /** Generated tokens per second of each timed run. */
  runs: number[];
  /** Mean and standard deviation over the runs, like llama-bench's `t/s` column. */
  tokensPerSecond: number;
  stdev: number;
}

async function generate(sequence: LlamaContextSequence, prompt: readonly Token[], tokens: number): Promise<number> {
  await sequence.clearHistory();
  let generated = 0;
  let started = 0;
  // yieldEogToken: a random model's greedy choice may be </s>; generation must go on regardless.
  for await (const _token of sequence.evaluate([...prompt], { temperature: 0, yieldEogToken: true })) {
    if (generated === 0) started = performance.now(); // the prompt is done and its next token sampled
    if (generated++ === tokens) break;
  }
  if (generated <= tokens) throw new Error(`generation stopped after ${generated - 1} of ${tokens} tokens`);
  return (tokens * 1000) / (performance.now() - started);
}

/** Decode tokens per second of `model` with a fresh context of `threads` threads. */
export async function measureBareDecode(model: LlamaModel, options: BareDecodeOptions): Promise<BareDecodeResult> {
  const tokens = options.tokens ?? 128;
  const repeats = options.repeats ?? 3;
  const contextSize = options.contextSize ?? 512;
  const prompt = options.prompt ?? (model.tokens.bos === null ? model.tokenize("Hello") : [model.tokens.bos]);
  if (prompt.length + tokens + 1 > contextSize) throw new RangeError(`${prompt.length} + ${tokens} tokens do not fit a context of ${contextSize}`);
  const context = await model.createContext({ ...options.context, contextSize, ...(options.threads === "default" ? {} : { threads: options.threads }) });
  try {
    const sequence = context.getSequence();
    await generate(sequence, prompt, Math.min(tokens, 16)); // warm-up: page in the weights, grow buffers
    const runs: number[] = [];
    for (let run = 0; run < repeats; run++) runs.push(await generate(sequence, prompt, tokens));
    const mean = runs.reduce((sum, value) => sum + value, 0) / runs.length;
    const stdev = Math.sqrt(runs.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, runs.length - 1));
    return { threads: options.threads, contextThreads: context.currentThreads, tokens, runs, tokensPerSecond: mean, stdev };
  } finally {
    await context.dispose();
  }
}

/** The CPU backend library node-llama-cpp loaded (it picks one libggml-cpu-<variant> per CPU), from the process map. */
export async function loadedCpuVariant(): Promise<string | null> {
  if (process.platform !== "linux") return null;
  const { readFile } = await import("node:fs/promises");
  const maps = await readFile("/proc/self/maps", "utf8");
  return /libggml-cpu[-\w.]*\.so/.exec(maps)?.[0] ?? null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      threads: { type: "string", default: "1,2" },
      tokens: { type: "string", default: "128" },
      repeats: { type: "string", default: "3" },
      "max-threads": { type: "string" },
      "batch-size": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const threads = values.threads.split(",").map((value) => (value === "default" ? "default" : Number(value)));
  const llamaOptions: LlamaOptions = { gpu: false, build: "never", progressLogs: false };
  if (values["max-threads"] !== undefined) llamaOptions.maxThreads = Number(values["max-threads"]);
  const context: BareDecodeOptions["context"] = values["batch-size"] === undefined ? {} : { batchSize: Number(values["batch-size"]) };

  let scratch: string | undefined;
  let modelPath = values.model;
  if (!modelPath) {
    scratch = await mkdtemp(join(tmpdir(), "bare-decode-"));
    modelPath = join(scratch, "synthetic-134m-q4_k_m.gguf");
    const written = await writeSyntheticLlamaGguf(modelPath, { ...SYNTHETIC_134M, outType: "q4_k_m" });
    if (!values.json) console.error(`synthetic model: ${(written.parameters / 1e6).toFixed(1)}M parameters, ${(written.bytes / 2 ** 20).toFixed(1)} MiB, ${written.milliseconds} ms`);
  }
  let llama: Llama | undefined;
  try {
    llama = await getLlama(llamaOptions);
    const model = await llama.loadModel({ modelPath });
    const results: BareDecodeResult[] = [];
    for (const count of threads) {
      results.push(await measureBareDecode(model, { threads: count, tokens: Number(values.tokens), repeats: Number(values.repeats), context }));
    }
    const environment = {
      cpuMathCores: llama.cpuMathCores,
      maxThreads: llama.maxThreads,
      cpuVariant: await loadedCpuVariant(),
      // libuv's pool runs node-llama-cpp's decode and sample workers; its size changes 2-thread decode speed a lot.
      uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? "4 (default)",
    };
    if (values.json) {
      console.log(JSON.stringify({ model: modelPath, ...environment, results }, null, 2));
    } else {
      console.log(
        `cpuMathCores ${environment.cpuMathCores}, maxThreads ${environment.maxThreads}, CPU backend ${environment.cpuVariant ?? "?"}, ` +
          `UV_THREADPOOL_SIZE ${environment.uvThreadpoolSize}`,
      );
      console.log("threads  used  tokens   tok/s");
      for (const r of results) {
        console.log(`${String(r.threads).padStart(7)}  ${String(r.contextThreads).padStart(4)}  ${String(r.tokens).padStart(6)}  ${r.tokensPerSecond.toFixed(1).padStart(6)} ± ${r.stdev.toFixed(1)}`);
      }
    }
    await model.dispose();
  } finally {
    await llama?.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
