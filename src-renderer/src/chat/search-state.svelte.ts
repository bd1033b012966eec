// Full-text search over every conversation, as the user types. Answers that come back after a newer query
// was sent are dropped, so the list never jumps back to an older query's results.
import type { ApiClient, SearchResult } from "../../../src-main/contract/api.js";

const DEBOUNCE_MS = 150;

export class SearchState {
  query = $state("");
  results: SearchResult[] = $state.raw([]);
  searching = $state(false);
  error: string | null = $state(null);
  readonly active = $derived(this.query.trim() !== "");
  #sequence = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly api: ApiClient) {}

  set(query: string): void {
    this.query = query;
    clearTimeout(this.#timer);
    const sequence = ++this.#sequence;
    if (query.trim() === "") {
      this.results = [];
      this.searching = false;
      return;
    }
    this.searching = true;
    this.#timer = setTimeout(() => void this.#run(query.trim(), sequence), DEBOUNCE_MS);
  }

  clear(): void {
    this.set("");
  }

  async #run(query: string, sequence: number): Promise<void> {
    try {
      const { results } = await this.api.invoke("history.search", { query, limit: 50 });
      if (sequence !== this.#sequence) return;
      this.results = results;
      this.error = null;
    } catch (error) {
      if (sequence !== this.#sequence) return;
      this.results = [];
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      if (sequence === this.#sequence) this.searching = false;
    }
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#sequence++;
  }
}
