// API requests take turns: one is answered at a time (the runtime generates one answer at a time), a bounded
// number wait, and the rest are turned away at once, so a flood of requests costs memory for the queue only.
import { BillaError } from "../../contract/errors.js";

interface QueueCounts {
  active: number;
  queued: number;
  served: number;
  refused: number;
}

interface Waiter {
  admit: () => void;
  cancel: () => void;
}

export class RequestQueue {
  #active = 0;
  readonly #waiting: Waiter[] = [];
  #served = 0;
  #refused = 0;
  /** Recent answers' durations, to tell a refused client how long to wait. */
  #meanAnswerMs = 0;

  constructor(
    /** Requests that may wait behind the one being answered. */
    private readonly maxWaiting: number,
    private readonly onChange: (counts: QueueCounts) => void = () => undefined,
  ) {}

  counts(): QueueCounts {
    return { active: this.#active, queued: this.#waiting.length, served: this.#served, refused: this.#refused };
  }

  /** Seconds a refused client should wait before trying again: about the time the queue takes to drain. */
  retryAfterSeconds(): number {
    const drainMs = this.#meanAnswerMs * (this.#waiting.length + this.#active);
    return Math.min(60, Math.max(1, Math.ceil(drainMs / 1000)));
  }

  /**
   * Waits for this request's turn and resolves with the function that ends it (saying whether it was answered).
   * Refuses with `busy` when the queue is full, and with `cancelled` when `signal` aborts while it waits (its
   * place is freed at once).
   */
  async enter(signal: AbortSignal): Promise<(answered: boolean) => void> {
    if (signal.aborted) throw new BillaError("cancelled", "The request was cancelled.");
    if (this.#active === 1 && this.#waiting.length >= this.maxWaiting) {
      this.#refused++;
      this.#changed();
      throw new BillaError("busy", `The server is answering another request and ${this.#waiting.length} more are waiting. Try again shortly.`);
    }
    if (this.#active === 0) {
      this.#active = 1;
      this.#changed();
    } else {
      // The request that ends hands its turn straight to this one: no newcomer can slip in between.
      await this.#wait(signal);
    }
    const started = performance.now();
    let ended = false;
    return (answered) => {
      if (ended) return;
      ended = true;
      if (answered) this.#served++;
      // An exponential moving average: recent answers count most.
      const ms = performance.now() - started;
      this.#meanAnswerMs = this.#meanAnswerMs === 0 ? ms : 0.8 * this.#meanAnswerMs + 0.2 * ms;
      const next = this.#waiting.shift();
      if (next) next.admit();
      else this.#active = 0;
      this.#changed();
    };
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          signal.removeEventListener("abort", waiter.cancel);
          resolve();
        },
        cancel: () => {
          const index = this.#waiting.indexOf(waiter);
          if (index >= 0) this.#waiting.splice(index, 1);
          this.#changed();
          reject(new BillaError("cancelled", "The request was cancelled while it waited."));
        },
      };
      signal.addEventListener("abort", waiter.cancel, { once: true });
      this.#waiting.push(waiter);
      this.#changed();
    });
  }

  #changed(): void {
    this.onChange(this.counts());
  }
}
