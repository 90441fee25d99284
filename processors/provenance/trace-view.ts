import type { Deviation, ExecutionChain } from '../../pipeline/deviation/index.js';
import type { Span } from '../../pipeline/otlp/types.js';
import type { KernelSpanFacts } from '../aibom/kernel-span.js';
import type { CanonicalContent, CanonicalSpan } from '../normalize/index.js';
import { ContentIndex, hash, normalizeText } from './content-index.js';
import { findInstructions, findInstructionsNormalized, MAX_SCAN_CHARS, type InstructionMatch } from './instructions.js';
import { INSTRUCTION_RULE, KERNEL_RULE, ARGUMENT_RULE, toolComponent } from './rules.js';
import { pieceKey, type Piece, type SharedPieces } from './pieces.js';
import { NO_ID, SpanIdIndex } from './span-ids.js';
import { argumentCandidates, kernelCandidates, type Candidate, type ValueKind } from './values.js';

/**
 * The provenance view of one trace while it is open: what the principal said (the user's request and
 * the system prompt), what the agent read (tool results and retrieved documents, each with the span
 * it came from), what it did (tool calls' arguments, and the kernel facts under each tool span).
 * Content is held as hashes only (content-index.ts) and dropped with the view when the trace settles.
 */

/** A span as provenance refers to it: its id (a number of the view's SpanIdIndex) and times (µs). */
interface SpanRef {
  spanId: number;
  name: string;
  startUs: number;
  endUs: number;
}

interface Source extends SpanRef {
  kind: 'tool_result' | 'retrieved_document';
  toolName: string;
  index: ContentIndex;
  instructions?: InstructionMatch;
}

interface Use extends SpanRef {
  toolName: string;
  /** The arguments as the span carried them, cut to what a deviation may carry. */
  arguments: string;
  candidates: Candidate[];
  /** The arguments, hashed: a value the assistant already wrote before a tool returned it came from the assistant. */
  index: ContentIndex;
}

interface KernelFact {
  spanId: number;
  parentId: number;
  startUs: number;
  facts: KernelSpanFacts;
  candidates: Candidate[];
}

export interface ViewLimits {
  /** Content index entries (hashes) per trace; past it content is not indexed (counted). */
  maxEntries: number;
  /** Sources, tool calls and kernel facts per trace, each. */
  maxItems: number;
  ignorePaths: readonly string[];
}

/** Most characters of arguments or prompt kept for the chain (the writer cuts again at MAX_TEXT). */
const KEEP_TEXT = 1024;
/** Kinds in the order a deviation names its headline value. */
const KIND_ORDER: readonly ValueKind[] = ['iban', 'account', 'recipient', 'email', 'url', 'host', 'ip', 'command', 'path', 'amount'];
/** Tolerance under which an amount counts as the one the user asked for. */
const AMOUNT_TOLERANCE = 0.2;
/** The empty list every view starts with (replaced, never written to). */
const NONE: never[] = [];

/**
 * Each collection is made when its first item comes (a trace of spans without content, or one
 * with no kernel facts, holds a few fields, not nine empty collections).
 */
export class TraceView {
  private trusted: ContentIndex | undefined;
  private trustedSeen: Set<number> | undefined;
  private prompt: string | undefined;
  private sources: Source[] = NONE;
  private uses: Map<number, Use> | undefined;
  private kernel: KernelFact[] = NONE;
  private llms: { spanId: number; model?: string; endUs: number }[] = NONE;
  /** Keys of the shared pieces this trace holds; at most one per tool call and source (bounded by `maxItems`). */
  private held: Set<string> | undefined;
  /** Parent of every span seen (kernel spans hang under process spans under tool spans), by id number. */
  private parents: Map<number, number> | undefined;
  /** The span ids the view refers to, as numbers; hex only for what a deviation names. */
  private ids: SpanIdIndex | undefined;
  entries = 0;
  truncated = false;
  /** Items not kept because a per-trace bound was reached. */
  overflow = 0;
  /** Tool spans seen, and those with arguments or results recorded: is content capture on? */
  toolSpans = 0;
  toolSpansWithContent = 0;

  constructor(
    readonly traceId: string,
    readonly serviceName: string,
    readonly openedMs: number,
    private readonly limits: ViewLimits,
    /** The pieces of content open traces hold, shared (the processor's). */
    private readonly shared: SharedPieces,
    /**
     * Held for the content gauge alone (an agent found without content): tool spans are counted,
     * nothing else is kept until a span with content makes it a full view (`withContent`).
     */
    private light = false,
  ) {}

  /** A span with content came: from now on the view keeps everything (what came before it while light is not linked). */
  withContent(): void {
    this.light = false;
  }

  lastMs = 0;

  private room(): number {
    return Math.max(0, this.limits.maxEntries - this.entries);
  }

  private index(ix: ContentIndex, text: string): void {
    this.entries += ix.add(text, this.room());
    if (ix.truncated) this.truncated = true;
  }

  /** The number of the span's span id (or parent span id) in this view. */
  spanId(span: Span, field: 'spanId' | 'parentSpanId' = 'spanId'): number {
    return (this.ids ??= new SpanIdIndex()).of(span, field);
  }

  private hex(id: number): string {
    return (this.ids ??= new SpanIdIndex()).hex(id);
  }

  /** The span's parent link (none for a root); its ids are read only when the link is kept. */
  parent(span: Span): void {
    if (this.light || (this.parents?.size ?? 0) >= this.limits.maxItems * 8) return;
    const parentId = this.spanId(span, 'parentSpanId');
    if (parentId !== NO_ID) (this.parents ??= new Map()).set(this.spanId(span), parentId);
  }

  /** An agent span with its canonical view (`endUs` is read for an LLM span only); its content, if it has some (see `hasContent`), follows with `addContent`. */
  addSpan(span: Span, view: CanonicalSpan, endUs: number): void {
    if (view.kind === 'llm' && !this.light && this.llms.length < this.limits.maxItems) (this.llms === NONE ? (this.llms = []) : this.llms).push({ spanId: this.spanId(span), ...(view.modelName ? { model: view.modelName } : {}), endUs });
    if (view.kind === 'tool' || view.kind === 'mcp_client') this.toolSpans++;
  }

  addContent(ref: SpanRef, view: CanonicalSpan, content: CanonicalContent): void {
    for (const m of content.inputMessages) {
      if (m.role !== 'user' && m.role !== 'system') continue;
      const added = this.addTrusted(m.content);
      if (added === undefined) break;
      if (added && m.role === 'user' && this.prompt === undefined) this.prompt = m.content.slice(0, KEEP_TEXT);
    }
    for (const d of content.toolDefinitions) if (this.addTrusted(d) === undefined) break;
    if (view.kind === 'tool' || view.kind === 'mcp_client') {
      if (content.toolArguments !== undefined || content.toolResult !== undefined) this.toolSpansWithContent++;
      const toolName = view.toolName ?? ref.name;
      if (content.toolArguments !== undefined) this.addUse(ref, toolName, content.toolArguments);
      if (content.toolResult !== undefined) this.addSource(ref, 'tool_result', toolName, [content.toolResult]);
    }
    if (view.kind === 'retriever' && content.documents.length > 0) this.addSource(ref, 'retrieved_document', ref.name, content.documents);
  }

  /**
   * The principal's words (a message, a tool definition) into the trusted index, once: true when
   * added, false when seen before, undefined when the trace has no room for more.
   */
  private addTrusted(text: string): boolean | undefined {
    const seen = (this.trustedSeen ??= new Set());
    const h = hash(text);
    if (seen.has(h)) return false;
    if (seen.size >= this.limits.maxItems * 4) {
      this.overflow++;
      return undefined;
    }
    seen.add(h);
    this.index((this.trusted ??= new ContentIndex(true)), text);
    return true;
  }

  /**
   * The piece `text` indexed, or the same piece as this or another open trace read it if the budget
   * has room for all of it: then it is what indexing it again would give (the same hashes, none cut),
   * and it is counted against the budget again, as a second index would be.
   */
  private piece(text: string, source: boolean): Piece {
    const key = pieceKey(text);
    const known = this.shared.get(key);
    if (known && known.index.size <= this.room()) {
      this.entries += known.index.size;
      this.hold(key, known);
      if (source && known.instructions === undefined) known.instructions = findInstructions(text) ?? null;
      return known;
    }
    const p: Piece = { index: new ContentIndex() };
    // Normalised once for the index and, when it reads the whole text, the instruction scan.
    const t = normalizeText(text);
    this.entries += p.index.addNormalized(t, this.room());
    if (p.index.truncated) this.truncated = true;
    if (source) p.instructions = (text.length <= MAX_SCAN_CHARS ? findInstructionsNormalized(t) : findInstructions(text)) ?? null;
    // A cut index depends on the budget left, not on the text alone: not shared.
    if (!p.index.truncated) this.hold(key, p);
    return p;
  }

  private hold(key: string, p: Piece): void {
    const held = (this.held ??= new Set());
    if (held.has(key)) return;
    held.add(key);
    this.shared.hold(key, p);
  }

  /** The trace is gone from the open ones: its pieces are no longer held by it. */
  release(): void {
    if (this.held) this.shared.release(this.held);
    this.held = undefined;
  }

  private addUse(ref: SpanRef, toolName: string, args: string): void {
    const uses = (this.uses ??= new Map());
    if (uses.size >= this.limits.maxItems) return void this.overflow++;
    const p = this.piece(args, false);
    uses.set(ref.spanId, { ...ref, toolName, arguments: args.slice(0, KEEP_TEXT), candidates: (p.candidates ??= argumentCandidates(args)), index: p.index });
  }

  private addSource(ref: SpanRef, kind: Source['kind'], toolName: string, texts: string[]): void {
    if (this.sources.length >= this.limits.maxItems) return void this.overflow++;
    let index: ContentIndex;
    let instructions: InstructionMatch | undefined;
    if (texts.length === 1) {
      const p = this.piece(texts[0]!, true);
      index = p.index;
      instructions = p.instructions ?? undefined;
    } else {
      index = new ContentIndex();
      for (const t of texts) {
        this.index(index, t);
        instructions ??= findInstructions(t);
      }
    }
    (this.sources === NONE ? (this.sources = []) : this.sources).push({ ...ref, kind, toolName, index, ...(instructions ? { instructions } : {}) });
  }

  addKernel(span: Span, startUs: number, facts: KernelSpanFacts): void {
    if (this.light) return;
    this.parent(span);
    const candidates = kernelCandidates(facts, this.limits.ignorePaths);
    if (candidates.length === 0) return;
    if (this.kernel.length >= this.limits.maxItems) return void this.overflow++;
    (this.kernel === NONE ? (this.kernel = []) : this.kernel).push({ spanId: this.spanId(span), parentId: this.spanId(span, 'parentSpanId'), startUs, facts, candidates });
  }

  /** Whether the trace carried any content: without it, provenance cannot say anything. */
  get hasContent(): boolean {
    return this.toolSpansWithContent > 0;
  }

  // ---------------------------------------------------------------- evaluation

  /** The principal said it (or, for an amount, something close to it). */
  private isTrusted(c: Candidate): boolean {
    const trusted = this.trusted;
    if (!trusted) return false;
    if (appears(trusted, c)) return true;
    if (c.kind === 'path' && this.inTrustedDirectory(trusted, c.value)) return true;
    const a = c.amount;
    return a !== undefined && trusted.numbers.some((n) => Math.abs(n - a) <= AMOUNT_TOLERANCE * Math.max(Math.abs(n), Math.abs(a)));
  }

  /** A path inside a directory the principal named (two segments at least): the user chose the scope. */
  private inTrustedDirectory(trusted: ContentIndex, path: string): boolean {
    const parts = path.split('/');
    const min = parts[0] === '' || parts[0] === '~' ? 3 : 2;
    for (let k = parts.length - 1; k >= min; k--) if (trusted.hasToken(parts.slice(0, k).join('/'))) return true;
    return false;
  }

  /**
   * The untrusted content that introduced `c` before `beforeUs`: the earliest source holding it,
   * unless the assistant itself had written it in a tool call before that source returned (a search
   * echoing its own query introduces nothing).
   */
  private introducedBy(c: Candidate, beforeUs: number, self: number): Source | undefined {
    if (this.isTrusted(c)) return undefined;
    let first: Source | undefined;
    for (const s of this.sources) {
      if (s.endUs > beforeUs || s.spanId === self) continue;
      if ((!first || s.endUs < first.endUs) && appears(s.index, c)) first = s;
    }
    if (!first) return undefined;
    for (const u of this.uses?.values() ?? []) {
      if (u.spanId !== self && u.startUs < first.endUs && appears(u.index, c)) return undefined;
    }
    return first;
  }

  /** The values of tool call `u` (or of the kernel activity under it) that untrusted content introduced, by source. */
  private bySource(candidates: readonly Candidate[], u: Use): Map<Source, Candidate[]> {
    const out = new Map<Source, Candidate[]>();
    for (const c of candidates) {
      const s = this.introducedBy(c, u.startUs, u.spanId);
      if (s) out.set(s, [...(out.get(s) ?? []), c]);
    }
    return out;
  }

  /** The tool call a span works for: itself or its nearest ancestor that is a tool call. */
  private toolOf(spanId: number): Use | undefined {
    let id: number | undefined = spanId;
    for (let i = 0; i < 16 && id !== undefined && id !== NO_ID; i++) {
      const u = this.uses?.get(id);
      if (u) return u;
      id = this.parents?.get(id);
    }
    return undefined;
  }

  private chain(u: Use): ExecutionChain {
    const llm = this.llms.filter((l) => l.endUs <= u.startUs).sort((a, b) => b.endUs - a.endUs)[0];
    const under = this.kernel.filter((k) => this.toolOf(k.spanId) === u).map((k) => k.facts);
    const list = (f: (k: KernelSpanFacts) => string | undefined) => [...new Set(under.map(f).filter((x): x is string => !!x))];
    const chain: ExecutionChain = { tool: { spanId: this.hex(u.spanId), name: u.toolName, arguments: u.arguments } };
    if (this.prompt !== undefined) chain.prompt = this.prompt;
    if (llm) chain.llm = { spanId: this.hex(llm.spanId), ...(llm.model ? { model: llm.model } : {}) };
    const data = list((k) => (k.kind === 'open' ? k.filePath : undefined));
    const destination = list((k) => k.dnsName ?? (k.peerAddress && k.kind === 'connect' ? `${k.peerAddress}${k.peerPort ? `:${k.peerPort}` : ''}` : undefined));
    const process = list((k) => (k.kind === 'exec' ? k.executable : undefined));
    const identity = list((k) => (k.credential ? k.filePath : undefined));
    if (data.length) chain.data = data;
    if (destination.length) chain.destination = destination;
    if (process.length) chain.process = process;
    if (identity.length) chain.identity = identity;
    return chain;
  }

  /** Every deviation this trace shows, once it has settled. */
  evaluate(): Deviation[] {
    const out: Deviation[] = [];
    for (const u of this.uses?.values() ?? []) {
      for (const [s, values] of this.bySource(u.candidates, u)) out.push(this.deviation(ARGUMENT_RULE, u, u.spanId, u.startUs, s, values, 'arguments of tool'));
    }
    for (const k of this.kernel) {
      const u = this.toolOf(k.parentId);
      if (!u) continue;
      for (const [s, values] of this.bySource(k.candidates, u)) out.push(this.deviation(KERNEL_RULE, u, k.spanId, k.startUs, s, values, `kernel ${k.facts.kind} under tool`));
    }
    for (const s of this.sources) {
      if (!s.instructions) continue;
      const spanId = this.hex(s.spanId);
      out.push({
        rule: INSTRUCTION_RULE,
        component: toolComponent(s.toolName),
        fact: `results of ${s.toolName} are data for the assistant, not instructions to it`,
        observed: s.instructions.excerpt,
        dedupeKey: `${s.instructions.excerpt}\0${this.traceId}\0${spanId}`,
        traceId: this.traceId,
        spanId,
        timeUnixNano: BigInt(s.endUs) * 1000n,
        chain: { ...(this.prompt !== undefined ? { prompt: this.prompt } : {}), tool: { spanId, name: s.toolName } },
        source: { spanId, name: s.name },
        attributes: { 'aibom.provenance.instruction.families': s.instructions.families, 'aibom.provenance.source.kind': s.kind },
      });
    }
    return out;
  }

  private deviation(rule: Deviation['rule'], u: Use, id: number, startUs: number, s: Source, values: Candidate[], what: string): Deviation {
    const spanId = this.hex(id);
    const sorted = [...values].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    const head = sorted[0]!;
    return {
      rule,
      component: toolComponent(u.toolName),
      fact: `${what} ${u.toolName} hold only values from the user's request or the system prompt; ${head.kind} first appeared in the ${s.kind === 'retrieved_document' ? 'documents retrieved by' : 'result of'} ${s.name}`,
      observed: `${head.kind} ${head.value}`,
      dedupeKey: `${head.kind} ${head.value}\0${this.traceId}\0${spanId}`,
      traceId: this.traceId,
      spanId,
      timeUnixNano: BigInt(startUs) * 1000n,
      chain: this.chain(u),
      source: { spanId: this.hex(s.spanId), name: s.name },
      attributes: {
        'aibom.provenance.value.kind': head.kind,
        'aibom.provenance.value.kinds': [...new Set(sorted.map((c) => c.kind))],
        'aibom.provenance.values': sorted.map((c) => `${c.kind} ${c.value}`),
        'aibom.provenance.value.count': sorted.length,
        'aibom.provenance.source.kind': s.kind,
      },
    };
  }
}

function appears(ix: ContentIndex, c: Candidate): boolean {
  for (const f of c.forms) if (ix.hasToken(f)) return true;
  return c.text !== undefined && ix.containsText(c.text);
}
