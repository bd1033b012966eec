import { getLlama, LlamaLogLevel, type Llama, type Token } from "node-llama-cpp";
import { golden } from "./demo.js";

let llama: Promise<Llama> | undefined;

/** One CPU Llama for the whole test file; tiny models run fastest on one thread here. */
function cpuLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  return llama;
}

/**
 * Loads a GGUF and continues each prompt greedily from exactly the given token ids (no chat template,
 * no tokenizer in between), up to EOS or `maxTokens`.
 */
export async function greedyContinuations(modelPath: string, prompts: number[][], maxTokens: number): Promise<number[][]> {
  const model = await (await cpuLlama()).loadModel({ modelPath, gpuLayers: 0 });
  try {
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    try {
      const results: number[][] = [];
      for (const prompt of prompts) {
        const sequence = context.getSequence();
        const generated: number[] = [];
        for await (const token of sequence.evaluate(prompt as Token[], { temperature: 0, yieldEogToken: true })) {
          generated.push(token);
          if (token === model.tokens.eos || generated.length >= maxTokens) break;
        }
        results.push(generated);
        sequence.dispose();
      }
      return results;
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export async function tokenize(modelPath: string, texts: string[]): Promise<number[][]> {
  const model = await (await cpuLlama()).loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
  try {
    return texts.map((text) => model.tokenize(text, false));
  } finally {
    await model.dispose();
  }
}

/** The golden cases (by id) whose greedy answer the GGUF reproduces token for token. */
export async function goldenMatches(modelPath: string): Promise<string[]> {
  const longest = Math.max(...golden.cases.map((c) => c.greedy_ids.length));
  const continuations = await greedyContinuations(modelPath, golden.cases.map((c) => c.prompt_ids), longest + 4);
  return golden.cases.filter((c, i) => JSON.stringify(continuations[i]) === JSON.stringify(c.greedy_ids)).map((c) => c.id);
}
