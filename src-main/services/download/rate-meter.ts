/** Bytes per second over the last few seconds, so the speed follows a connection that slows down or recovers. */
export class RateMeter {
  readonly #samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, at = performance.now()): void {
    if (bytes > 0) this.#samples.push({ at, bytes });
    this.#trim(at);
  }

  perSecond(at = performance.now()): number {
    this.#trim(at);
    const first = this.#samples[0];
    if (!first) return 0;
    const total = this.#samples.reduce((sum, sample) => sum + sample.bytes, 0);
    // Over the window, or over the time since the first sample while the window is not full yet.
    const span = Math.max(1000, Math.min(this.windowMs, at - first.at));
    return (total * 1000) / span;
  }

  #trim(at: number): void {
    while (this.#samples.length > 0 && at - this.#samples[0]!.at > this.windowMs) this.#samples.shift();
  }
}
