// The statistics of llama.cpp's tools/perplexity (perplexity.cpp), computed the same way so the numbers compare:
// the "Final estimate" of perplexity mode, and the mean KLD, "Same top p" and "RMS Δp" of --kl-divergence with
// their ± uncertainties. Only the base's storage differs (see base-logits.ts): llama.cpp keeps every token's
// log-probability, we keep the base's top K and fold the rest of its probability into one remainder.
import type { Drift, Perplexity } from "../../contract/api.js";

/** A log-probability of a token the model gives no probability (float underflow): log of the smallest float. */
const LOG_OF_NOTHING = Math.log(1.401298464324817e-45);

/** What the base said at one position: the right next token's log-probability, and its most likely tokens. */
export interface BasePosition {
  nextLogProb: number;
  /** The base's most likely tokens, most likely first, and their log-probabilities (float32 values). */
  ids: ArrayLike<number>;
  logProbs: ArrayLike<number>;
}

/** Its log, rounded to float32 as the cache stores the base's, so a model compared with itself gives exactly 0. */
function logProb(probability: number | undefined): number {
  return probability === undefined || probability <= 0 ? LOG_OF_NOTHING : Math.fround(Math.log(probability));
}

/** The first key of a Map sorted most likely first (node-llama-cpp's probabilities are). */
function topToken(probabilities: ReadonlyMap<number, number>): number | undefined {
  for (const token of probabilities.keys()) return token;
  return undefined;
}

/** llama.cpp's mean_and_uncertainty: the mean, and its standard error when there are more than 10 values. */
export function meanAndUncertainty(sum: number, sumOfSquares: number, count: number): [mean: number, uncertainty: number] {
  if (count < 1) return [0, 0];
  const mean = sum / count;
  const variance = sumOfSquares / count - mean * mean;
  return [mean, variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0];
}

/** Perplexity mode: the negative log-likelihood of every scored token. */
export class PerplexityAccumulator {
  #nll = 0;
  #nll2 = 0;
  #count = 0;
  #chunks = 0;

  /** The model's probability of the token that really came next. */
  add(probabilityOfNext: number): void {
    const nll = -logProb(probabilityOfNext);
    this.#nll += nll;
    this.#nll2 += nll * nll;
    this.#count++;
  }

  addChunk(): void {
    this.#chunks++;
  }

  get count(): number {
    return this.#count;
  }

  /** perplexity.cpp's final estimate: PPL = exp(mean NLL) ± sqrt(var(NLL) / (n − 1)) · PPL. */
  result(): Perplexity {
    const count = this.#count;
    const meanNll = this.#nll / count;
    const perplexity = Math.exp(meanNll);
    const variance = this.#nll2 / count - meanNll * meanNll;
    const error = variance > 0 && count > 1 ? Math.sqrt(variance / (count - 1)) * perplexity : 0;
    return { perplexity, error, meanNll, tokensScored: count, chunks: this.#chunks };
  }
}

/** --kl-divergence mode: each position of the model against the base's at the same place. */
export class DriftAccumulator {
  #kld = 0;
  #kld2 = 0;
  #pDiff2 = 0;
  #pDiff4 = 0;
  #sameTop = 0;
  #count = 0;

  add(probabilities: ReadonlyMap<number, number>, nextToken: number, base: BasePosition): void {
    // KL(base ‖ model) = Σ p·(log p − log q) over the base's kept tokens, plus the remainder of both as one token.
    let kld = 0;
    let baseRest = 1;
    let modelRest = 1;
    for (let i = 0; i < base.ids.length; i++) {
      const baseLog = base.logProbs[i]!;
      const p = Math.exp(baseLog);
      if (p === 0) continue;
      const modelLog = logProb(probabilities.get(base.ids[i]!));
      kld += p * (baseLog - modelLog);
      baseRest -= p;
      modelRest -= Math.exp(modelLog);
    }
    if (baseRest > 0 && modelRest > 0) kld += baseRest * Math.log(baseRest / modelRest);
    this.#kld += kld;
    this.#kld2 += kld * kld;
    if (base.ids.length > 0 && topToken(probabilities) === base.ids[0]) this.#sameTop++;
    const pDiff = Math.exp(logProb(probabilities.get(nextToken))) - Math.exp(base.nextLogProb);
    const pDiff2 = pDiff * pDiff;
    this.#pDiff2 += pDiff2;
    this.#pDiff4 += pDiff2 * pDiff2;
    this.#count++;
  }

  result(base: Pick<Drift, "baseName" | "basePath" | "baseFileType" | "topK">): Drift {
    const count = this.#count;
    const [meanKld, meanKldError] = meanAndUncertainty(this.#kld, this.#kld2, count);
    const [mse, mseError] = meanAndUncertainty(this.#pDiff2, this.#pDiff4, count);
    const rms = Math.sqrt(mse);
    const sameTop = count > 0 ? this.#sameTop / count : 0;
    return {
      ...base,
      meanKld,
      meanKldError,
      sameTopPercent: 100 * sameTop,
      sameTopError: count > 1 ? 100 * Math.sqrt((sameTop * (1 - sameTop)) / (count - 1)) : 0,
      rmsDeltaPercent: 100 * rms,
      rmsDeltaError: rms > 0 ? (100 * 0.5 * mseError) / rms : 0,
    };
  }
}
