// Scoring text as llama.cpp's llama-perplexity does, on node-llama-cpp: the probabilities a model gives every
// next token of a chunk. controlledEvaluate is the one node-llama-cpp call that returns the distribution at every
// position of an input (evaluateWithMetadata only gives it for generated tokens); each position's distribution
// comes back as a Map sorted from the most to the least likely token.
import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { BillaError } from "../../contract/errors.js";

/**
 * Tokens evaluated per call: llama.cpp's default micro-batch, so a chunk of up to 512 tokens is evaluated in one
 * batch as llama-perplexity evaluates it. The batch size picks ggml's matrix kernels, whose rounding differs: in
 * pieces of 64, the demo's Q4_K_M gave "Same top p" 91.61 % and RMS Δp 0.627 % where llama-perplexity gives
 * 91.77 % and 0.647 %; in one batch, the same to the last digit. Cancel is checked between calls, so it waits
 * for the batch in flight.
 */
const PIECE = 512;

/** One scored position: the token that really came next, and the model's distribution over the vocabulary. */
export type PositionListener = (position: number, nextToken: number, probabilities: ReadonlyMap<number, number>) => void;

export class TextScorer {
  constructor(
    private readonly model: LlamaModel,
    private readonly sequence: LlamaContextSequence,
    readonly contextSize: number,
  ) {}

  /**
   * The text's tokens as llama-perplexity makes them (common_tokenize with add_special): a BOS first when the model
   * adds one, then the text with SentencePiece's leading space, special-token text taken literally.
   */
  tokenize(text: string): number[] {
    const bos = this.model.tokens.bos;
    const tokens = this.model.tokenize(text, false).map(Number);
    return this.model.tokens.shouldPrependBosToken && bos !== null ? [Number(bos), ...tokens] : tokens;
  }

  /** BOS, which llama-perplexity puts in place of each chunk's first token; null for a model without one. */
  get bos(): number | null {
    return this.model.tokens.shouldPrependBosToken && this.model.tokens.bos !== null ? Number(this.model.tokens.bos) : null;
  }

  /**
   * Evaluates one chunk from an empty sequence and reports, for every position from `first` to the chunk's
   * second-to-last token, the distribution of the token after it. The chunk's last token predicts nothing scored,
   * so it is not evaluated (a sequence holds at most contextSize − 1 tokens in node-llama-cpp).
   */
  async scoreChunk(chunk: readonly number[], first: number, onPosition: PositionListener, signal: AbortSignal, onPiece: (scored: number) => void = () => undefined): Promise<void> {
    if (chunk.length > this.contextSize) throw new RangeError(`a chunk of ${chunk.length} tokens does not fit a context of ${this.contextSize}`);
    await this.sequence.clearHistory();
    const evaluated = chunk.length - 1;
    for (let start = 0; start < evaluated; start += PIECE) {
      if (signal.aborted) throw new BillaError("cancelled", "The measurement was cancelled.");
      const end = Math.min(evaluated, start + PIECE);
      const input = chunk.slice(start, end).map((token, offset): ControlledEvaluateInputItem => {
        const position = start + offset;
        return position >= first ? [token as Token, { generateNext: { probabilities: true } }] : (token as Token);
      });
      let scored = 0;
      await this.sequence.controlledEvaluate(input, {
        onTokenResult: (index, result) => {
          const position = start + index;
          const probabilities = result.next.probabilities;
          if (!probabilities) return;
          onPosition(position, chunk[position + 1]!, probabilities);
          scored++;
          // The result array keeps every output until the call returns: a 47k-entry Map per position adds up.
          delete result.next.probabilities;
        },
      });
      onPiece(scored);
    }
  }
}
