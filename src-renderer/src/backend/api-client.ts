import type { ApiClient, RawApi, RequestInput, RequestName, RequestOutput } from "../../../src-main/contract/api.js";
import type { ApiError } from "../../../src-main/contract/errors.js";

/** A failed request, as the UI sees it: a code to branch on and a sentence to show. */
export class BackendError extends Error {
  readonly code: ApiError["code"];

  constructor(error: ApiError) {
    super(error.message);
    this.name = "BackendError";
    this.code = error.code;
  }
}

/** Turns a raw channel (Electron's preload or web mode's socket) into the typed client the UI uses. */
export function createApiClient(raw: RawApi): ApiClient {
  return {
    async invoke<N extends RequestName>(name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
      const envelope = await raw.invoke(name, input);
      if (!envelope.ok) throw new BackendError(envelope.error);
      return envelope.value as RequestOutput<N>;
    },
    subscribe: (listener) => raw.subscribe(listener),
  };
}
