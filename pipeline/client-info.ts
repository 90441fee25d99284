// The OTLP client a piece of telemetry came from, kept beside the data (never in it), like the
// Collector's `client.Info` in a request's context. receiver/otlp attaches it to every resource of a
// request; processors read it (correlate uses the connection to check which process sent the spans).
// Keyed by the Resource objects, which every component passes on by reference (enrich changes them in
// place), so nothing in the consumer contract changes and nothing a client sends can set it. One
// limit: batch merges requests whose resources are equal under the first one's Resource object, so
// after a batch processor the client of a resource is the first of those senders; read it before
// batching (correlate sits before batch in the default pipeline).

import type { Resource } from './otlp/types.js';

export interface ClientInfo {
  transport: 'grpc' | 'http';
  /**
   * The client's end of the connection as our socket sees it; undefined when the transport gives no
   * IP peer (a Unix socket).
   */
  peer: { address: string; port: number } | undefined;
  /** The port the client connected to (ours). */
  localPort: number;
}

interface Grouped {
  resource?: Resource | null;
}

const byResource = new WeakMap<Resource, ClientInfo>();

/** Records `info` for every resource of one request (a missing resource becomes an empty one). */
export function attachClientInfo(groups: readonly Grouped[], info: ClientInfo): void {
  for (const g of groups) byResource.set((g.resource ??= {}), info);
}

export function clientInfoOf(resource: Resource | null | undefined): ClientInfo | undefined {
  return resource ? byResource.get(resource) : undefined;
}

/** Carries client info from `original` to an exact copy (same shape and order). */
export function carryClientInfo(original: readonly Grouped[], copy: readonly Grouped[]): void {
  for (let i = 0; i < original.length && i < copy.length; i++) {
    const info = clientInfoOf(original[i]!.resource);
    if (info) byResource.set((copy[i]!.resource ??= {}), info);
  }
}
