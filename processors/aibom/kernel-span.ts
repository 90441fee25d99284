import { findAttr } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, Span } from '../../pipeline/otlp/types.js';
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
}

const str = (a: readonly KeyValue[] | undefined, k: string): string | undefined => {
  const v = findAttr(a, k);
  return typeof v === 'string' ? v : undefined;
};
const num = (a: readonly KeyValue[] | undefined, k: string): number | undefined => {
  const v = findAttr(a, k);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
};

/** Undefined for spans correlate did not make. */
export function readKernelSpan(span: Span, scopeName: string | undefined): KernelSpanFacts | undefined {
  if (scopeName !== CORRELATE_SCOPE) return undefined;
  const a = span.attributes;
  const kind = str(a, ATTR.kernelKind);
  if (!kind) return undefined;
  const args = findAttr(a, ATTR.processCommandArgs);
  return {
    kind,
    pid: num(a, ATTR.processPid),
    executable: str(a, ATTR.processExecutablePath),
    commandArgs: Array.isArray(args) ? args.map(String) : undefined,
    filePath: str(a, ATTR.filePath),
    fileDirectory: str(a, ATTR.fileDirectory),
    fileResult: num(a, ATTR.fileResult),
    fileOpenFlags: num(a, ATTR.fileOpenFlags),
    credential: findAttr(a, ATTR.identityCredential) === true,
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
  };
}
