// One side of the CPU-build comparison in bench:generate, in a process of its own (two llama.cpp binaries do not
// share a process): decode and prompt-processing speed at each thread count, either through node-llama-cpp's bare
// evaluate loop on a chosen binary, or through the app's own chat path (services → runtime → chat wrapper), which
// picks its binary as the app does. Prints one JSON line.
//
//   tsx bench/generate/cpu-builds-child.ts '{"path":"bare"|"chat","build":"prebuilt"|"threaded","model":"…","threads":[1,2],"tokens":128,"repeats":3,"promptTokens":512}'
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import type { GenerationStats, SystemInfo } from "../../src-main/contract/api.js";
import { createServices } from "../../src-main/services/create-services.js";
import { threadedBuildCmakeOptions } from "../../src-main/services/runtime/threaded-build.js";
import { measureBareDecode } from "./bare-decode.js";

export interface CpuBuildsChildSpec {
  path: "bare" | "chat";
  /** For the bare loop: which binary to load. The chat path loads what the app loads. */
  build: "prebuilt" | "threaded";
  model: string;
  threads: number[];
  tokens: number;
  repeats: number;
  promptTokens: number;
}

export interface CpuBuildsChildResult {
  /** The binary that really ran (node-llama-cpp's buildType for the bare loop, system.info for the app). */
  build: string;
  /** By thread count: generated tokens per second, and prompt tokens evaluated per second. */
  decode: Record<number, number>;
  prompt: Record<number, number>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A prompt of `count` ordinary tokens after BOS (the same text every run). */
function promptOf(model: LlamaModel, count: number): Token[] {
  const words = model.tokenize("Bilingual models share one vocabulary and one transformer for Chinese and English text. ".repeat(count));
  return [model.tokens.bos!, ...words.slice(0, count - 1)];
}

async function bare(spec: CpuBuildsChildSpec): Promise<CpuBuildsChildResult> {
  const cmakeOptions = spec.build === "threaded" ? threadedBuildCmakeOptions(process.platform) : null;
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error, ...(cmakeOptions ? { cmakeOptions } : {}) });
  const model = await llama.loadModel({ modelPath: spec.model });
  const result: CpuBuildsChildResult = { build: llama.buildType === "localBuild" ? "threaded" : "prebuilt", decode: {}, prompt: {} };
  const prompt = promptOf(model, spec.promptTokens);
  for (const threads of spec.threads) {
    result.decode[threads] = (await measureBareDecode(model, { threads, tokens: spec.tokens, repeats: spec.repeats, contextSize: 1024 })).tokensPerSecond;
    // llama-bench's pp: one batch of the whole prompt into an empty context.
    const context = await model.createContext({ contextSize: 1024, batchSize: spec.promptTokens, threads });
    const sequence = context.getSequence();
    const runs: number[] = [];
    for (let run = 0; run <= spec.repeats; run++) {
      await sequence.clearHistory();
      const started = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      if (run > 0) runs.push((prompt.length * 1000) / (performance.now() - started)); // run 0 warms up
    }
    result.prompt[threads] = median(runs);
    await context.dispose();
  }
  await model.dispose();
  await llama.dispose();
  return result;
}

async function chat(spec: CpuBuildsChildSpec): Promise<CpuBuildsChildResult> {
  const dataDir = await mkdtemp(join(tmpdir(), "billa-bench-cpu-builds-"));
  const services = createServices({ dataDir, transport: "cli", gpu: "cpu" });
  const call = async <T>(name: string, input: object): Promise<T> => {
    const envelope = await services.api.invoke(name, input);
    if (!envelope.ok) throw new Error(`${name}: ${envelope.error.message}`);
    return envelope.value as T;
  };
  try {
    const system = await call<SystemInfo>("system.info", {});
    const result: CpuBuildsChildResult = { build: system.llama.build, decode: {}, prompt: {} };
    // A question long enough that BiLLa's prompt is about spec.promptTokens tokens.
    const question = "Please explain how a bilingual model shares its vocabulary. ".repeat(Math.ceil(spec.promptTokens / 11));
    for (const threads of spec.threads) {
      await call("runtime.load", { modelPath: spec.model, contextSize: 2048, threads });
      const decode: number[] = [];
      const prompt: number[] = [];
      for (let run = 0; run <= spec.repeats; run++) {
        // A new conversation each time: the whole prompt is evaluated, as for a first question.
        const { stats } = await call<{ stats: GenerationStats }>("chat.generate", {
          conversationId: `run-${threads}-${run}`,
          messageId: "bench",
          history: [],
          question,
          sampling: { temperature: 0, maxTokens: spec.tokens },
        });
        if (run === 0) continue; // warm-up
        decode.push(stats.tokensPerSecond);
        prompt.push((stats.promptTokens * 1000) / stats.timeToFirstTokenMs!);
      }
      result.decode[threads] = median(decode);
      result.prompt[threads] = median(prompt);
    }
    return result;
  } finally {
    await services.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const spec = JSON.parse(process.argv[2]!) as CpuBuildsChildSpec;
console.log(JSON.stringify(spec.path === "bare" ? await bare(spec) : await chat(spec)));
