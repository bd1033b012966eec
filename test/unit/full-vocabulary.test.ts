// BiLLa at the size of its real vocabulary: 46,943 pieces, LLaMA's 32,000 original rows in the released
// embedding. The demo tokenizer, grown with Chinese characters and two-character words (as BiLLa grew LLaMA's)
// and Hangul to BiLLa's count, is read, a released checkpoint with that vocabulary converts, and node-llama-cpp
// loads the GGUF and tokenizes every sampled piece to its own id.
import { readFileSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticCheckpoint } from "../../bench/support/synthetic-billa.js";
import { readSentencePieceModel } from "../../src-main/services/conversion/tokenizer/sentencepiece-model.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { DEMO, reportOf, runJob } from "../support/demo.js";
import { withExtraPieces } from "../support/sentencepiece-pieces.js";
import { makeTempDir } from "../support/temp-dir.js";

const BILLA_VOCABULARY = 46_943;
const LLAMA_VOCABULARY = 32_000;

const temp = makeTempDir("billa-full-vocabulary-");
const tokenizerDir = join(temp.path, "tokenizer");
let services: Services;
let model: LlamaModel;
let added: { piece: string; id: number }[];
/** The id of SentencePiece's word-start mark "▁", which llama.cpp puts before the text. */
let wordStart: number;

/** Characters of a Unicode range that the demo tokenizer does not have yet. */
function characters(from: number, to: number, taken: Set<string>): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)).filter((char) => !taken.has(char));
}

beforeAll(async () => {
  const demoModel = readFileSync(join(DEMO.released, "tokenizer.model"));
  const demoPieces = (await readSentencePieceModel(join(DEMO.released, "tokenizer.model"))).pieces;
  const taken = new Set(demoPieces.map((piece) => piece.piece));
  // Every CJK ideograph and Hangul syllable as a piece, then two-character words of disjoint pairs of them, so each
  // word has exactly one way to be merged from its characters.
  const singles = [...characters(0x4e00, 0x9fff, taken), ...characters(0xac00, 0xd7a3, taken)];
  const words = Array.from({ length: BILLA_VOCABULARY - demoPieces.length - singles.length }, (_, i) => singles[2 * i]! + singles[2 * i + 1]!);
  const lowest = Math.min(...demoPieces.map((piece) => piece.score));
  const pieces = [...singles, ...words].map((piece, i) => ({ piece, score: lowest - 1 - i / 1000 }));
  added = pieces.map(({ piece }, i) => ({ piece, id: demoPieces.length + i }));
  wordStart = demoPieces.findIndex((piece) => piece.piece === "▁");

  mkdirSync(tokenizerDir);
  writeFileSync(join(tokenizerDir, "tokenizer.model"), withExtraPieces(demoModel, pieces));
  for (const file of ["tokenizer_config.json", "special_tokens_map.json"]) copyFileSync(join(DEMO.released, file), join(tokenizerDir, file));

  services = createServices({ dataDir: join(temp.path, "data"), transport: "cli" });
  const checkpoint = await writeSyntheticCheckpoint(temp.path, {
    shape: { hidden: 256, layers: 1, heads: 4, intermediate: 768, vocab: BILLA_VOCABULARY, originalRows: LLAMA_VOCABULARY },
    shardCount: 2,
    tokenizerDir,
  });
  const outFile = join(temp.path, "billa-full-vocabulary.gguf");
  reportOf((await runJob(services.api, "conversion.start", { modelDir: checkpoint.modelDir, originalLlama: checkpoint.originalFile, outFile, outType: "f16" })).outcome);
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: outFile, vocabOnly: true });
}, 300_000);
afterAll(async () => {
  await model?.dispose();
  await services?.dispose();
  temp.remove();
});

describe("BiLLa's full vocabulary", () => {
  it("reads all 46,943 pieces of the grown tokenizer, in id order", async () => {
    const tokenizer = await readSentencePieceModel(join(tokenizerDir, "tokenizer.model"));
    expect(tokenizer.pieces).toHaveLength(BILLA_VOCABULARY);
    for (const { piece, id } of [added[0]!, added[20_000]!, added.at(-1)!]) expect(tokenizer.pieces[id]!.piece).toBe(piece);
  });

  it("converts to a GGUF that node-llama-cpp loads with every token, and tokenizes each piece to its own id", () => {
    expect(model.fileInsights.totalParameters).toBeGreaterThan(0);
    expect(model.tokens.bos).toBe(1);
    const sample = added.filter((_, i) => i % 97 === 0 || i === added.length - 1);
    expect(sample.at(-1)!.id).toBe(BILLA_VOCABULARY - 1);
    for (const { piece, id } of sample) {
      // llama.cpp puts SentencePiece's "▁" before the text, a token of its own here.
      expect(model.tokenize(piece, false), piece).toEqual([wordStart, id]);
      expect(model.detokenize([id as Token]), String(id)).toBe(piece);
    }
  });
});
