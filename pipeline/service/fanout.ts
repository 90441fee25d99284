import { codecFor } from '../otlp/codec.js';
import type { Consumer } from '../consumer.js';
import { PermanentError } from '../consumer.js';
import { carryClientInfo } from '../client-info.js';
import { carryKernelMarks } from '../kernel-event/index.js';
import type { LogsData, Signal, SignalData, TracesData } from '../otlp/types.js';

/**
 * Hands one batch to several consumers. Exporters treat data as read-only, so they share it;
 * pipelines may contain processors that change data, so each but the last gets its own copy
 * (an encode/decode round trip: exact, and only paid when one receiver feeds several pipelines); what
 * the bytes cannot carry (kernel provenance, the OTLP client's connection) is carried over beside them.
 * Fails if any consumer failed; the failure is permanent only if every failure was permanent.
 */
export function fanout<S extends Signal>(signal: S, consumers: Consumer<SignalData<S>>[], copy: boolean): Consumer<SignalData<S>> {
  if (consumers.length === 1) return consumers[0]!;
  const codec = codecFor(signal);
  const copyOf = (data: SignalData<S>): SignalData<S> => {
    const out = codec.decode(codec.encode(data));
    carryContext(signal, data, out);
    return out;
  };
  return {
    async consume(data) {
      const results = await Promise.allSettled(consumers.map((c, i) => c.consume(copy && i < consumers.length - 1 ? copyOf(data) : data)));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
      if (failures.length === 0) return;
      const message = failures.map((e) => e.message).join('; ');
      if (failures.every((e) => e instanceof PermanentError)) throw new PermanentError(message);
      throw failures.find((e) => !(e instanceof PermanentError)) ?? new Error(message);
    },
  };
}

/** What an in-process copy must keep that the OTLP encoding does not hold. */
function carryContext(signal: Signal, original: SignalData<Signal>, copy: SignalData<Signal>): void {
  if (signal === 'logs') {
    const [from, to] = [original as LogsData, copy as LogsData];
    carryKernelMarks(from, to);
    carryClientInfo(from.resourceLogs, to.resourceLogs);
  } else {
    carryClientInfo((original as TracesData).resourceSpans, (copy as TracesData).resourceSpans);
  }
}
