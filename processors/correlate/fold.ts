/**
 * Which file opens are plumbing (module loading, shared libraries, locale data, /proc/self...) and
 * fold into one span per parent span and root, so the files that matter keep a span of their own.
 * Only opens fold, never credential reads, and a path no rule matches is never folded: a data
 * directory the agent reads stays one span per file.
 */

/** What a plumbing file is: the rule that matched it and the root its span stands for. */
export interface Fold {
  rule: FoldRule;
  /** Directory the group stands for; '' when the rule makes one group per parent (shared libraries). */
  root: string;
}

export interface FoldRule {
  /** Recorded as `aibom.fold.rule`. */
  name: string;
  /** Span name: `<verb> <n> <noun>[ under <root>]`. */
  verb: string;
  noun: string;
  /** The root of `path` opened by process `pid`, or undefined when the rule does not apply. */
  rootOf(path: string, pid: number): string | undefined;
}

/**
 * A rule from a regular expression whose first group (if any) is the root. `hint`: a substring every
 * match contains, tested first for unanchored patterns: most opens match no rule, and includes() is
 * much cheaper than their scan (bench/correlate.bench.ts, fold).
 */
function patternRule(name: string, verb: string, noun: string, pattern: RegExp, hint = ''): FoldRule {
  return {
    name,
    verb,
    noun,
    rootOf: (path) => {
      if (hint && !path.includes(hint)) return undefined;
      const m = pattern.exec(path);
      return m ? (m[1] ?? '') : undefined;
    },
  };
}

/** Only the process's own /proc entries: another process's (`/proc/<pid>/environ`) is evidence. */
const OWN_PROC = /^\/proc\/(self|thread-self|\d+)\//;
const DEVICES = /^\/dev\/(?:null|zero|u?random|tty|pts\/\d+)$/;

/**
 * The built-in rules, first match wins. Package roots come before the interpreter's own lib, so
 * `.venv/lib/python3.11/site-packages` is one root and the standard library another.
 */
export const DEFAULT_FOLD_RULES: readonly FoldRule[] = [
  // The root directory itself too: the import system lists it.
  patternRule('python_packages', 'load', 'modules', /^(.*?\/(?:site|dist)-packages)(?:\/|$)/, '-packages'),
  patternRule('node_modules', 'load', 'modules', /^(.*?\/node_modules)(?:\/|$)/, '/node_modules'),
  patternRule('interpreter_lib', 'load', 'modules', /^(.*?\/lib\/(?:python\d+(?:\.\d+)?|node))(?:\/|$)/, '/lib/'),
  patternRule('python_bytecode', 'load', 'modules', /^(.*\/__pycache__)\//, '/__pycache__/'),
  patternRule('shared_libraries', 'load', 'shared libraries', /(?:\.so(?:\.\d+)*$|^\/etc\/ld\.so\.)/, '.so'),
  patternRule('locale', 'read', 'locale and timezone files', /^(?:\/usr\/(?:lib|share)\/(?:locale|i18n|zoneinfo|icu)\/|\/usr\/lib\/[^/]+\/gconv\/|\/etc\/localtime$|\/etc\/timezone$)/),
  // What ps/psutil do (and the reference agents, to list their MCP children): status lines only; another
  // process's cmdline, environ, maps or fd stay evidence.
  patternRule('process_table', 'scan', 'process status files in /proc', /^\/proc(?:\/\d+\/(?:stat|status|statm|comm))?$/),
  {
    name: 'system_files',
    verb: 'read',
    noun: '/proc, /sys and /dev files',
    rootOf: (path, pid) => {
      if (path.startsWith('/sys/') || DEVICES.test(path)) return '';
      const m = OWN_PROC.exec(path);
      return m && (m[1] === 'self' || m[1] === 'thread-self' || Number(m[1]) === pid) ? '' : undefined;
    },
  },
  patternRule('tls_trust', 'read', 'TLS trust files', /^(?:\/(?:usr\/lib|etc)\/ssl\/(?:openssl\.cnf|certs\/[^/]+)|\/usr\/share\/ca-certificates\/.+)$/),
  // /etc/hosts and resolv.conf are read to resolve a name; the DNS query itself is a dns event and keeps its span.
  patternRule('name_resolution_config', 'read', 'name resolution config files', /^\/etc\/(?:hosts|resolv\.conf|nsswitch\.conf|host\.conf|gai\.conf|services|protocols)$/),
];

/** Opens that failed with ENOENT and match no other rule: import path search, config probing. */
const MISSING: FoldRule = { name: 'missing_files', verb: 'probe', noun: 'missing files', rootOf: () => '' };
const MISSING_FOLD: Fold = { rule: MISSING, root: '' };

/** A user rule from globs: `*` is one path segment, `**` any depth; the root is the part before the first `**`. */
export function globRule(name: string, globs: readonly string[]): FoldRule {
  const compiled = globs.map((g) => {
    const i = g.indexOf('**');
    if (i < 0) return { re: new RegExp(`^${globSource(g)}$`), deep: false };
    const head = g.slice(0, i).replace(/\/$/, '');
    return { re: new RegExp(`^(${globSource(head)})/?${globSource(g.slice(i))}$`), deep: true };
  });
  return {
    name,
    verb: 'open',
    noun: `files (${name})`,
    rootOf: (path) => {
      for (const { re, deep } of compiled) {
        const m = re.exec(path);
        if (m) return deep ? m[1]! : path.slice(0, Math.max(path.lastIndexOf('/'), 0));
      }
      return undefined;
    },
  };
}

function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

export interface FoldConfig {
  /** false: every distinct file keeps its own span. */
  enabled: boolean;
  /** Apply DEFAULT_FOLD_RULES (after the user's rules). */
  defaults: boolean;
  /** The user's rules, tried first. */
  rules: FoldRule[];
  /** Paths a folded span lists in `aibom.fold.sample_paths`. */
  samplePaths: number;
}

export const DEFAULT_FOLD_SAMPLE_PATHS = 10;

export function defaultFoldConfig(): FoldConfig {
  return { enabled: true, defaults: true, rules: [], samplePaths: DEFAULT_FOLD_SAMPLE_PATHS };
}

/**
 * Paths whose classification is remembered. An agent run opens the same few thousand module files in
 * every process it starts (~2 800 opens a run, most of them plumbing); a cached path costs one map
 * lookup instead of a pass over the rules' regular expressions. ≈ 100-200 B per entry (the path is
 * shared with the event that had it), ≈ 1 MiB at the bound; past it the cache starts over.
 */
const MAX_CLASSIFIED_PATHS = 8192;

/** Classifies opens by the configured rules. */
export class Folder {
  private readonly rules: readonly FoldRule[];
  /** The rules' answer per path (null: no rule), for paths whose answer does not depend on the pid. */
  private readonly known = new Map<string, Fold | null>();

  constructor(readonly config: FoldConfig) {
    this.rules = config.enabled ? [...config.rules, ...(config.defaults ? DEFAULT_FOLD_RULES : [])] : [];
  }

  /**
   * The fold of an open of `path` by `pid`, or undefined when it keeps its own span.
   * `credential`: flagged by the sensor, never folded. `errorType`: the open's failure, if any.
   */
  classify(path: string, pid: number, credential: boolean, errorType: string | undefined): Fold | undefined {
    if (credential || this.rules.length === 0) return undefined;
    let fold = this.known.get(path);
    if (fold === undefined) {
      fold = this.byRules(path, pid);
      // Under /proc the answer depends on whose entry it is (system_files: the process's own pid only).
      if (!path.startsWith('/proc/')) {
        if (this.known.size >= MAX_CLASSIFIED_PATHS) this.known.clear();
        this.known.set(path, fold);
      }
    }
    if (fold) return fold;
    return errorType === 'ENOENT' && this.config.defaults ? MISSING_FOLD : undefined;
  }

  private byRules(path: string, pid: number): Fold | null {
    for (const rule of this.rules) {
      const root = rule.rootOf(path, pid);
      if (root !== undefined) return { rule, root };
    }
    return null;
  }
}

/** `load 212 modules under /app/.venv/lib/python3.11/site-packages`. */
export function foldedName(fold: Fold, paths: number): string {
  return `${fold.rule.verb} ${paths} ${fold.rule.noun}${fold.root ? ` under ${fold.root}` : ''}`;
}
