// One side of the CPU-build comparison in bench:generate, in a process of its own (two llama.cpp binaries do not
// share a process): decode and prompt-processing speed at each thread count, either through node-llama-cpp's bare
// evaluate loop on a chosen binary, or through the app's own chat path (services → runtime → chat wrapper), which
// picks its binary as the app does. Every side does the same work: a prompt of `promptTokens` tokens evaluated
// into an empty context (prompt speed), then `tokens` tokens decoded after it (decode speed), as a first question
// of that length is answered. Prints one JSON line.
//
//   tsx bench/generate/cpu-builds-child.ts '{"path":"bare"|"chat","build":"prebuilt"|"threaded","model":"…","threads":[1,2],"tokens":128,"repeats":3,"promptTokens":512}'
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import type { GenerationStats, SystemInfo } from "../../src-main/contract/api.js";
import { createServices } from "../../src-main/services/create-services.js";
import { threadedBuildLlamaOptions } from "../../src-main/services/runtime/threaded-build.js";
import { median } from "../support/median.js";
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
  /** The prompt's length as evaluated (the chat path's is BiLLa's whole prompt for the question). */
  promptTokens: number;
}


/** A prompt of `count` ordinary tokens after BOS (the same text every run). */
function promptOf(model: LlamaModel, count: number): Token[] {
  const words = model.tokenize("Bilingual models share one vocabulary and one transformer for Chinese and English text. ".repeat(count));
  return [model.tokens.bos!, ...words.slice(0, count - 1)];
}

async function bare(spec: CpuBuildsChildSpec): Promise<CpuBuildsChildResult> {
  const build = spec.build === "threaded" ? threadedBuildLlamaOptions(process.platform) : {};
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error, ...build });
  const model = await llama.loadModel({ modelPath: spec.model });
  const prompt = promptOf(model, spec.promptTokens);
  const result: CpuBuildsChildResult = { build: llama.buildType === "localBuild" ? "threaded" : "prebuilt", decode: {}, prompt: {}, promptTokens: prompt.length };
  const contextSize = prompt.length + spec.tokens + 1;
  // As the app loads models: flash attention off (its default; on this CPU decoding after a prompt is faster so).
  const flashAttention = false;
  for (const threads of spec.threads) {
    result.decode[threads] = (await measureBareDecode(model, { threads, tokens: spec.tokens, repeats: spec.repeats, contextSize, prompt, context: { flashAttention } })).tokensPerSecond;
    // llama-bench's pp: one batch of the whole prompt into an empty context.
    const context = await model.createContext({ contextSize, batchSize: spec.promptTokens, threads, flashAttention });
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

/**
 * A question whose BiLLa prompt is about `tokens` long: a sentence repeated, its count found from the prompt lengths
 * of one and two repetitions (the model's vocabulary decides how many tokens a sentence takes).
 */
async function questionOfLength(tokens: number, promptTokensOf: (question: string) => Promise<number>): Promise<string> {
  const sentence = "Please explain how a bilingual model shares its vocabulary. ";
  const once = await promptTokensOf(sentence.trim());
  const perSentence = (await promptTokensOf(sentence.repeat(2).trim())) - once;
  return sentence.repeat(Math.max(1, 1 + Math.round((tokens - once) / perSentence))).trim();
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
    let asked = 0;
    const ask = async (question: string, maxTokens: number) => {
      // A new conversation each time: the whole prompt is evaluated, as for a first question.
      const input = { conversationId: `question-${asked++}`, messageId: "bench", history: [], question, sampling: { temperature: 0, maxTokens } };
      return (await call<{ stats: GenerationStats }>("chat.generate", input)).stats;
    };
    let question: string | null = null;
    const result: CpuBuildsChildResult = { build: system.llama.build, decode: {}, prompt: {}, promptTokens: 0 };
    for (const threads of spec.threads) {
      await call("runtime.load", { modelPath: spec.model, contextSize: 2048, threads });
      question ??= await questionOfLength(spec.promptTokens, async (text) => (await ask(text, 1)).promptTokens);
      const decode: number[] = [];
      const prompt: number[] = [];
      for (let run = 0; run <= spec.repeats; run++) {
        const stats = await ask(question, spec.tokens);
        result.promptTokens = stats.promptTokens;
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
