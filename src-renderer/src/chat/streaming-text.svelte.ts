// The text of the answer being written. Chunks arrive far more often than the screen refreshes (100 tokens/s
// and more), so they are gathered in a plain string and published to the reactive `text` at most once per
// animation frame: the answer's Markdown is rendered once per frame, whatever the token rate.

const nextFrame: (callback: () => void) => number =
  typeof requestAnimationFrame === "function" ? (callback) => requestAnimationFrame(callback) : (callback) => setTimeout(callback, 16) as unknown as number;
const cancelFrame: (handle: number) => void = typeof cancelAnimationFrame === "function" ? (handle) => cancelAnimationFrame(handle) : (handle) => clearTimeout(handle);

export class StreamingText {
  /** The answer being written, or null. */
  messageId: string | null = $state(null);
  text = $state("");
  #pending = "";
  #frame: number | null = null;

  begin(messageId: string, initial = ""): void {
    this.#cancel();
    this.messageId = messageId;
    this.#pending = initial;
    this.text = initial;
  }

  append(messageId: string, delta: string): void {
    if (messageId !== this.messageId) return;
    this.#pending += delta;
    this.#frame ??= nextFrame(() => {
      this.#frame = null;
      this.text = this.#pending;
    });
  }

  /** The answer ended: the saved message takes over from here. */
  end(messageId?: string): void {
    if (messageId !== undefined && messageId !== this.messageId) return;
    this.#cancel();
    this.messageId = null;
    this.#pending = "";
    this.text = "";
  }

  #cancel(): void {
    if (this.#frame !== null) cancelFrame(this.#frame);
    this.#frame = null;
  }
}
