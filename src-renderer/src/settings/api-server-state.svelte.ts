// The local OpenAI-compatible API server as the Settings page shows it: its status (kept current by the
// services' `apiServer.status` events, which carry the live request counts) and the changes the user makes.
import type { ApiClient, ApiServerStatus, EventMessage, RequestInput } from "../../../src-main/contract/api.js";
import { failureOf, type Failure } from "../shell/failure.js";

export class ApiServerState {
  status: ApiServerStatus | null = $state(null);
  failure: Failure | null = $state(null);
  /** A change is being applied (the server may be restarting). */
  applying = $state(false);

  constructor(private readonly api: ApiClient) {}

  async load(): Promise<void> {
    try {
      this.status = await this.api.invoke("apiServer.status", {});
    } catch (error) {
      this.failure = failureOf(error);
    }
  }

  configure(changes: RequestInput<"apiServer.configure">): Promise<void> {
    return this.#apply(() => this.api.invoke("apiServer.configure", changes));
  }

  renewKey(): Promise<void> {
    return this.#apply(() => this.api.invoke("apiServer.renewKey", {}));
  }

  onEvent(event: EventMessage): void {
    if (event.name === "apiServer.status") this.status = event.payload;
  }

  async #apply(change: () => Promise<ApiServerStatus>): Promise<void> {
    this.applying = true;
    try {
      this.status = await change();
      this.failure = null;
    } catch (error) {
      this.failure = failureOf(error);
    } finally {
      this.applying = false;
    }
  }
}
