import type { ExecutionChain } from '../../pipeline/deviation/index.js';
import { ancestor } from './observe.js';
import { endUs, spanIdOf, startUs, type SpanRecord } from './span-record.js';
import type { OpenTrace } from './trace-buffer.js';

/**
 * The execution chain of a deviation, from what the trace holds so far: the user's prompt, the LLM
 * call that chose the tool (the last one that ended before the tool started), the tool call with its
 * arguments, and the data, destinations, identities and executables the trace's kernel spans showed.
 * The writer redacts and bounds every string.
 */
export function buildChain(t: OpenTrace, r: SpanRecord, ignorePaths: readonly string[]): ExecutionChain {
  const chain: ExecutionChain = {};
  if (t.prompt) chain.prompt = t.prompt.rare!.prompt;
  const tool = r.view?.kind === 'tool' ? r : ancestor(t, r, (a) => (a.view?.kind === 'tool' ? a : undefined));
  if (tool) {
    chain.tool = { spanId: spanIdOf(tool), name: tool.view!.toolName ?? '', ...(tool.view!.toolArguments !== undefined ? { arguments: tool.view!.toolArguments } : {}) };
    let chooser: SpanRecord | undefined;
    const toolStart = startUs(tool);
    for (let i = 0; i < t.size; i++) {
      const s = t.records[i]!;
      if (s.view?.kind === 'llm' && endUs(s) <= toolStart && (!chooser || endUs(s) > endUs(chooser))) chooser = s;
    }
    if (chooser) chain.llm = { spanId: spanIdOf(chooser), ...(chooser.view!.modelName ? { model: chooser.view!.modelName } : {}) };
  } else if (r.view?.kind === 'llm') {
    chain.llm = { spanId: spanIdOf(r), ...(r.view.modelName ? { model: r.view.modelName } : {}) };
  }
  const data: string[] = [];
  const destination: string[] = [];
  const identity: string[] = [];
  const process: string[] = [];
  for (let i = 0; i < t.size; i++) {
    const s = t.records[i]!;
    const k = s.kernel;
    if (s.view?.dataSourceId) data.push(s.view.dataSourceId);
    if (!k) continue;
    if (k.kind === 'open' && k.filePath && (k.fileResult === undefined || k.fileResult >= 0)) {
      if (k.credential) identity.push(k.filePath);
      else if (!ignorePaths.some((p) => k.filePath!.includes(p))) data.push(k.filePath);
    } else if (k.kind === 'dns' && k.dnsName) destination.push(k.dnsName);
    else if ((k.kind === 'http' || k.kind === 'connect') && k.peerAddress) destination.push(`${k.peerAddress}:${k.peerPort ?? 0}${k.urlPath ?? ''}`);
    else if (k.kind === 'exec' && k.executable) process.push(k.executable);
  }
  if (data.length) chain.data = data;
  if (destination.length) chain.destination = destination;
  if (identity.length) chain.identity = identity;
  if (process.length) chain.process = process;
  return chain;
}
