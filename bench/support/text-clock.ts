// Times text as a reader receives it: when the request started, and the first and last visible pieces. Speed
// counts the tokens after the first piece of text, whose time belongs to the prompt.

export interface TimedRun {
  tokensPerSecond: number;
  firstTextMs: number;
  tokens: number;
}

export class TextClock {
  readonly #started = performance.now();
  #first: number | null = null;
  #last = 0;

  text(piece: string | null | undefined): void {
    if (!piece) return;
    this.#first ??= performance.now();
    this.#last = performance.now();
  }

  run(tokens: number): TimedRun {
    if (this.#first === null) throw new Error("No text arrived.");
    return { tokensPerSecond: (tokens - 1) / ((this.#last - this.#first) / 1000), firstTextMs: this.#first - this.#started, tokens };
  }
}
