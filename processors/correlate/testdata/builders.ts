import { attr, attrs, bigIntToLong, type AttributeValue } from '../../../pipeline/otlp/attributes.js';
import type { LogsData, Span, TracesData } from '../../../pipeline/otlp/types.js';
import { markKernelRecord } from '../../../pipeline/kernel-event/index.js';
import { ATTR, KERNEL_SCOPE, type KernelEventKind } from '../../../pipeline/semconv.js';

/** Unix time in ns for a ms offset from a fixed origin, so tests read in milliseconds. */
export const T0 = 1_790_000_000_000n;
export const at = (ms: number) => (T0 + BigInt(ms)) * 1_000_000n;

export interface ProcessFacts {
  pid: number;
  ppid: number;
  comm: string;
  exe?: string;
  args?: string[];
}

/** A kernel-event log record as receiver/ebpf writes it (marked as its writer marks it). */
export function kernelEvents(proc: ProcessFacts, events: { kind: KernelEventKind; ms: number; attributes?: Record<string, AttributeValue | undefined> }[]): LogsData {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: attrs({
            [ATTR.serviceName]: `unknown_service:${proc.comm}`,
            [ATTR.processPid]: proc.pid,
            [ATTR.processParentPid]: proc.ppid,
            [ATTR.processExecutableName]: proc.comm,
            [ATTR.processExecutablePath]: proc.exe,
            [ATTR.processCommandArgs]: proc.args,
          }),
        },
        scopeLogs: [
          {
            scope: { name: KERNEL_SCOPE },
            logRecords: events.map((e) =>
              markKernelRecord({
                timeUnixNano: bigIntToLong(at(e.ms)),
                eventName: `aibom.kernel.${e.kind}`,
                severityNumber: 9,
                attributes: attrs(e.attributes ?? {}),
              }),
            ),
          },
        ],
      },
    ],
  };
}

export interface SpanSpec {
  trace: string;
  id: string;
  parent?: string;
  name: string;
  from: number;
  to: number;
  kind?: number;
  attributes?: Record<string, AttributeValue | undefined>;
}

const hexId = (s: string, bytes: number) => Buffer.from(s.padStart(bytes * 2, '0'), 'hex');

/** Spans of one process (resource process.pid) as an SDK exports them. */
export function spans(service: string, pid: number, specs: SpanSpec[]): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr(ATTR.serviceName, service), attr(ATTR.processPid, pid)] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: specs.map(
              (s): Span => ({
                traceId: hexId(s.trace, 16),
                spanId: hexId(s.id, 8),
                parentSpanId: s.parent ? hexId(s.parent, 8) : Buffer.alloc(0),
                name: s.name,
                kind: s.kind ?? 1,
                startTimeUnixNano: bigIntToLong(at(s.from)),
                endTimeUnixNano: bigIntToLong(at(s.to)),
                attributes: attrs(s.attributes ?? {}),
              }),
            ),
          },
        ],
      },
    ],
  };
}

export const traceHex = (s: string) => s.padStart(32, '0');
export const spanHex = (s: string) => s.padStart(16, '0');

/** Deterministic pseudo-random numbers (a failing seed reproduces). */
export function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Plays actions timed in ms from T0 on an injected clock: a matching round (`tick`) every 250 ms of it up
 * to each action, the action (`act`), then 160 more rounds (40 s: every window ends). `setClock` gets
 * the ms from T0.
 */
export async function replay<A extends { at: number }>(actions: readonly A[], setClock: (ms: number) => void, tick: () => Promise<void>, act: (a: A) => Promise<void>): Promise<void> {
  let round = 0;
  let now = 0;
  for (const a of actions) {
    for (; round <= a.at; round += 250) {
      setClock((now = round));
      await tick();
    }
    setClock((now = a.at));
    await act(a);
  }
  for (let i = 0; i < 160; i++) {
    setClock((now += 250));
    await tick();
  }
}
