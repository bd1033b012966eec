// An answer's text, saved while it streams: at most every SAVE_INTERVAL_MS and within that time of the
// last chunk, so a crash loses at most a fraction of a second of text and saving costs little.
export const SAVE_INTERVAL_MS = 250;

export class StreamingAnswer {
  #text = "";
  #savedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly save: (text: string) => void,
    private readonly intervalMs = SAVE_INTERVAL_MS,
  ) {}

  get text(): string {
    return this.#text;
  }

  append(chunk: string): void {
    this.#text += chunk;
    const due = this.#savedAt + this.intervalMs - performance.now();
    if (due <= 0) this.#save();
    else this.#timer ??= setTimeout(() => this.#save(), due);
  }

  /** No more saving; the final text is written with the answer's outcome. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #save(): void {
    this.close();
    this.#savedAt = performance.now();
    this.save(this.#text);
  }
}
