import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { appendedAttributes, eachAttribute } from '../../pipeline/otlp/span-view.js';
import type { AnyValue, KeyValue, Span } from '../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../pipeline/semconv.js';

/**
 * What a span processors/correlate made from kernel events says, read once. These spans carry the
 * kernel event's own attributes (semantic conventions) plus `aibom.kernel.kind`; a `process` span
 * stands for another process working under its parent (an MCP stdio server under a tool call).
 * Kept to this one module so a change of the correlate span contract is one change here. Read-only:
 * aibom, baseline and provenance are given the same object for the same span (`readKernelSpan`).
 */
export interface KernelSpanFacts {
  readonly kind: string;
  readonly pid?: number;
  readonly executable?: string;
  readonly commandArgs?: readonly string[];
  /** A process span whose exec happened under its parent (started there), not a process already running. */
  readonly execUnderParent?: boolean;
  readonly filePath?: string;
  /** Set instead of `filePath` when correlate folded many opens of one directory. */
  readonly fileDirectory?: string;
  readonly fileResult?: number;
  /** open(2) flags as the sensor saw them. */
  readonly fileOpenFlags?: number;
  readonly credential: boolean;
  readonly peerAddress?: string;
  readonly peerPort?: number;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly urlPath?: string;
  readonly httpMethod?: string;
  readonly dnsName?: string;
  /** `aibom.shadow.signature`: the sensor's shadow-AI signature this event matched. */
  readonly shadowSignature?: string;
  /** `gen_ai.request.model` the sensor read from a request body. */
  readonly requestModel?: string;
  readonly localPort?: number;
  /** `http.request.body.size` of an http span. */
  readonly bodySize?: number;
  /** `aibom.monitor.coverage` and its reason, when the span itself carries them (correlate's process spans). */
  readonly coverage?: { coverage: unknown; partialReason: unknown };
}

/** Every attribute key `readKernelSpan` reads, by slot: one pass over the span's attributes reads them. */
const KEYS = [
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
] as const;
const SLOT: ReadonlyMap<string, number> = new Map(KEYS.map((k, i) => [k, i]));
const slot = (key: (typeof KEYS)[number]): number => SLOT.get(key)!;
const KIND = slot(ATTR.kernelKind);
const PID = slot(ATTR.processPid);
const EXE = slot(ATTR.processExecutablePath);
const ARGS = slot(ATTR.processCommandArgs);
const UNDER_PARENT = slot(ATTR.processExecUnderParent);
const FILE = slot(ATTR.filePath);
const DIRECTORY = slot(ATTR.fileDirectory);
const RESULT = slot(ATTR.fileResult);
const FLAGS = slot(ATTR.fileOpenFlags);
const CREDENTIAL = slot(ATTR.identityCredential);
const PEER = slot(ATTR.networkPeerAddress);
const PEER_PORT = slot(ATTR.networkPeerPort);
const SERVER = slot(ATTR.serverAddress);
const SERVER_PORT = slot(ATTR.serverPort);
const URL_PATH = slot(ATTR.urlPath);
const METHOD = slot(ATTR.httpRequestMethod);
const DNS = slot(ATTR.dnsQuestionName);
const SHADOW = slot(ATTR.shadowSignature);
const MODEL = slot(ATTR.genAiRequestModel);
const LOCAL_PORT = slot(ATTR.networkLocalPort);
const BODY_SIZE = slot(ATTR.httpRequestBodySize);
const COVERAGE = slot(ATTR.monitorCoverage);
const PARTIAL = slot(ATTR.monitorPartialReason);

/**
 * The values of the span being read, by slot, and which slots it had (a bit each; the first
 * occurrence wins, as `findAttr`'s): module state, not a Map and a closure per span (the read is
 * synchronous, and aibom, baseline and provenance each read every kernel span).
 */
const values: unknown[] = KEYS.map(() => undefined);
let had = 0;

function take(key: string, value: AnyValue | null | undefined): void {
  const i = SLOT.get(key);
  if (i === undefined || (had & (1 << i)) !== 0) return;
  had |= 1 << i;
  values[i] = fromAnyValue(value);
}

/** `take` for a received span: its value decoded only for a key read. */
function visit(key: string, value: () => AnyValue | null | undefined): void {
  const i = SLOT.get(key);
  if (i === undefined || (had & (1 << i)) !== 0) return;
  had |= 1 << i;
  values[i] = fromAnyValue(value());
}

const get = (i: number): unknown => ((had & (1 << i)) !== 0 ? values[i] : undefined);
const str = (i: number): string | undefined => {
  const v = get(i);
  return typeof v === 'string' ? v : undefined;
};
const num = (i: number): number | undefined => {
  const v = get(i);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
};

/**
 * Undefined for spans correlate did not make. Reads through the span view, so a kernel span that
 * arrives from another collector tier (received, still bytes) is not decoded for it.
 */
export function readKernelSpan(span: Span, scopeName: string | undefined): KernelSpanFacts | undefined {
  if (scopeName !== CORRELATE_SCOPE) return undefined;
  had = 0;
  if (appendedAttributes(span) !== undefined) {
    eachAttribute(span, visit);
    return factsRead();
  }
  // A span that is an object (correlate's own): its attributes read as they are, no closure per attribute,
  // and once for the three processors that read it.
  const list = span.attributes;
  if (!list) return factsRead();
  const known = readBefore.get(list);
  if (known !== undefined && known.length === list.length) return known.facts;
  for (let i = 0; i < list.length; i++) take(list[i]!.key, list[i]!.value);
  const f = factsRead();
  if (f !== undefined) readBefore.set(list, { length: list.length, facts: f });
  return f;
}

/**
 * The facts of an object span's attributes, by their list (while the span lives), with the list's
 * length when read: aibom, baseline and provenance read each kernel span in turn, and the facts object
 * was most of what each read allocated. A list that has grown since (an attribute added to the span in
 * between) is read again; the lists correlate makes are not changed in place.
 */
const readBefore = new WeakMap<readonly KeyValue[], { length: number; facts: KernelSpanFacts }>();

/** The facts of the attributes `take` or `visit` read (undefined without a kind), and `forget`. */
function factsRead(): KernelSpanFacts | undefined {
  const kind = str(KIND);
  if (!kind) return forget(undefined);
  const args = get(ARGS);
  const bodySize = get(BODY_SIZE);
  return forget({
    kind,
    pid: num(PID),
    executable: str(EXE),
    commandArgs: Array.isArray(args) ? args.map(String) : undefined,
    execUnderParent: get(UNDER_PARENT) === true,
    filePath: str(FILE),
    fileDirectory: str(DIRECTORY),
    fileResult: num(RESULT),
    fileOpenFlags: num(FLAGS),
    credential: get(CREDENTIAL) === true,
    peerAddress: str(PEER),
    peerPort: num(PEER_PORT),
    serverAddress: str(SERVER),
    serverPort: num(SERVER_PORT),
    urlPath: str(URL_PATH),
    httpMethod: str(METHOD),
    dnsName: str(DNS),
    shadowSignature: str(SHADOW),
    requestModel: str(MODEL),
    localPort: num(LOCAL_PORT),
    bodySize: bodySize === undefined ? undefined : Number(bodySize),
    coverage: get(COVERAGE) !== undefined ? { coverage: get(COVERAGE), partialReason: get(PARTIAL) } : undefined,
  });
}

/** Lets go of the values read (a command line, paths) so module state holds no span's data after the read. */
function forget<T>(facts: T): T {
  for (let i = 0; i < values.length; i++) if ((had & (1 << i)) !== 0) values[i] = undefined;
  had = 0;
  return facts;
}
