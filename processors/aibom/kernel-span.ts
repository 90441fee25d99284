import { attributeValues } from '../../pipeline/otlp/span-view.js';
import type { Span } from '../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../pipeline/semconv.js';

/**
 * What a span processors/correlate made from kernel events says, read once. These spans carry the
 * kernel event's own attributes (semantic conventions) plus `aibom.kernel.kind`; a `process` span
 * stands for another process working under its parent (an MCP stdio server under a tool call).
 * Kept to this one module so a change of the correlate span contract is one change here.
 */
export interface KernelSpanFacts {
  kind: string;
  pid?: number;
  executable?: string;
  commandArgs?: string[];
  /** A process span whose exec happened under its parent (started there), not a process already running. */
  execUnderParent?: boolean;
  filePath?: string;
  /** Set instead of `filePath` when correlate folded many opens of one directory. */
  fileDirectory?: string;
  fileResult?: number;
  /** open(2) flags as the sensor saw them. */
  fileOpenFlags?: number;
  credential: boolean;
  peerAddress?: string;
  peerPort?: number;
  serverAddress?: string;
  serverPort?: number;
  urlPath?: string;
  httpMethod?: string;
  dnsName?: string;
  /** `aibom.shadow.signature`: the sensor's shadow-AI signature this event matched. */
  shadowSignature?: string;
  /** `gen_ai.request.model` the sensor read from a request body. */
  requestModel?: string;
  localPort?: number;
  /** `http.request.body.size` of an http span. */
  bodySize?: number;
  /** `aibom.monitor.coverage` and its reason, when the span itself carries them (correlate's process spans). */
  coverage?: { coverage: unknown; partialReason: unknown };
}

/** Every attribute key `readKernelSpan` reads, looked up in one pass (span-view.ts). */
const KEYS: ReadonlySet<string> = new Set([
  ATTR.kernelKind,
  ATTR.processPid,
  ATTR.processExecutablePath,
  ATTR.processCommandArgs,
  ATTR.processExecUnderParent,
  ATTR.filePath,
  ATTR.fileDirectory,
  ATTR.fileResult,
  ATTR.fileOpenFlags,
  ATTR.identityCredential,
  ATTR.networkPeerAddress,
  ATTR.networkPeerPort,
  ATTR.serverAddress,
  ATTR.serverPort,
  ATTR.urlPath,
  ATTR.httpRequestMethod,
  ATTR.dnsQuestionName,
  ATTR.shadowSignature,
  ATTR.genAiRequestModel,
  ATTR.networkLocalPort,
  ATTR.httpRequestBodySize,
  ATTR.monitorCoverage,
  ATTR.monitorPartialReason,
]);

type Values = ReadonlyMap<string, unknown>;
const str = (a: Values, k: string): string | undefined => {
  const v = a.get(k);
  return typeof v === 'string' ? v : undefined;
};
const num = (a: Values, k: string): number | undefined => {
  const v = a.get(k);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
};

/**
 * Undefined for spans correlate did not make. Reads through the span view, so a kernel span that
 * arrives from another collector tier (received, still bytes) is not decoded for it.
 */
export function readKernelSpan(span: Span, scopeName: string | undefined): KernelSpanFacts | undefined {
  if (scopeName !== CORRELATE_SCOPE) return undefined;
  const a = attributeValues(span, KEYS);
  const kind = str(a, ATTR.kernelKind);
  if (!kind) return undefined;
  const args = a.get(ATTR.processCommandArgs);
  const bodySize = a.get(ATTR.httpRequestBodySize);
  return {
    kind,
    pid: num(a, ATTR.processPid),
    executable: str(a, ATTR.processExecutablePath),
    commandArgs: Array.isArray(args) ? args.map(String) : undefined,
    execUnderParent: a.get(ATTR.processExecUnderParent) === true,
    filePath: str(a, ATTR.filePath),
    fileDirectory: str(a, ATTR.fileDirectory),
    fileResult: num(a, ATTR.fileResult),
    fileOpenFlags: num(a, ATTR.fileOpenFlags),
    credential: a.get(ATTR.identityCredential) === true,
    peerAddress: str(a, ATTR.networkPeerAddress),
    peerPort: num(a, ATTR.networkPeerPort),
    serverAddress: str(a, ATTR.serverAddress),
    serverPort: num(a, ATTR.serverPort),
    urlPath: str(a, ATTR.urlPath),
    httpMethod: str(a, ATTR.httpRequestMethod),
    dnsName: str(a, ATTR.dnsQuestionName),
    shadowSignature: str(a, ATTR.shadowSignature),
    requestModel: str(a, ATTR.genAiRequestModel),
    localPort: num(a, ATTR.networkLocalPort),
    bodySize: bodySize === undefined ? undefined : Number(bodySize),
    coverage: a.get(ATTR.monitorCoverage) !== undefined ? { coverage: a.get(ATTR.monitorCoverage), partialReason: a.get(ATTR.monitorPartialReason) } : undefined,
  };
}
