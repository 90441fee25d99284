/**
 * The bytes of request bodies one receiver holds at once, over all its connections and both
 * protocols: what makes a large per-request limit safe. Without it the bound was the per-request
 * limit times the calls one connection may run (100) times the connections (1000). A request takes
 * its share as soon as its size is known (a gRPC message's length prefix, an HTTP Content-Length;
 * chunked bodies chunk by chunk, inflated bodies once inflated) and gives it back when it is
 * answered; one that does not fit is refused as retryable (gRPC UNAVAILABLE, HTTP 503 with a
 * retry hint), so the SDK sends it again once earlier requests are through.
 */
export class RequestBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes`; false, taking nothing, when they do not fit beside what is held. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.held;
  }
}

/** What a refusal for want of budget says: the sender learns it may retry, and when. */
export const budgetMessage = (bytes: number, budget: RequestBudget): string =>
  `receiver is holding ${budget.inUse} of its max_in_flight_bytes (${budget.limit}); a request of ${bytes} bytes must wait: retry later`;
