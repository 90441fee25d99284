import type { KeyValue } from './otlp/types.js';

/**
 * Secret scrubbing before anything may leave the host: captured plaintext (HTTP heads, TLS payloads,
 * JSON bodies) and command lines (`process.command_args`). Conservative on purpose: a false positive
 * costs a few characters of context, a miss leaks a credential. Values are replaced by `[REDACTED]`;
 * names (header names, JSON keys, flag names) are kept so the shape stays visible.
 */

export const REDACTED = '[REDACTED]';

/** Header names whose whole value is a credential. Lower case. */
export const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-auth-token',
  'x-amz-security-token',
];

const headerNames = SECRET_HEADERS.map((h) => h.replace(/[-]/g, '\\-')).join('|');
/** `Name: value` up to the end of the line (CRLF or LF), at the start of a line. */
const SECRET_HEADER_LINE = new RegExp(`(^|[\\r\\n])((?:${headerNames})[ \\t]*:[ \\t]*)[^\\r\\n]*`, 'gi');

/** Token shapes that are secrets wherever they appear (in bodies, query strings, logs). */
const TOKEN_PATTERNS: readonly [RegExp, string][] = [
  // `Bearer <token>` / `Basic <b64>` outside a header we already blanked (e.g. inside JSON).
  [/\b(Bearer|Basic)[ \t]+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  // OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-...
  [/\bsk-[A-Za-z0-9_-]{6,}/g, REDACTED],
  // JSON Web Tokens: header.payload.signature, base64url, header starts with {" -> eyJ
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // AWS access key ids
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/g, REDACTED],
  // AWS secret access key after its usual names
  [/(aws_secret_access_key|secretAccessKey|AWS_SECRET_ACCESS_KEY)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{30,}/g, `$1$2${REDACTED}`],
  // GitHub, Google, Slack, Hugging Face tokens
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\bhf_[A-Za-z0-9]{20,}/g, REDACTED],
  // JSON string values of secret-named keys: "api_key": "...", "password": "..."
  [
    /("(?:api[_-]?key|apikey|password|passwd|secret|client_secret|token|access_token|refresh_token|id_token|authorization|private_key)"\s*:\s*")(?:[^"\\]|\\.)*(")/gi,
    `$1${REDACTED}$2`,
  ],
  // Query parameters that carry credentials
  [/([?&](?:api[_-]?key|key|token|access_token|sig|signature|password|secret)=)[^&\s#"]+/gi, `$1${REDACTED}`],
  // Passwords in URL userinfo: scheme://user:password@host (the user name stays)
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:)[^\s@/?#]+@/gi, `$1${REDACTED}@`],
  // Environment-style assignments of secret-named variables: OPENAI_API_KEY=..., DB_PASSWORD=...
  [/\b((?:[A-Z][A-Z0-9]*_)*(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)=)[^\s&"']+/g, `$1${REDACTED}`],
];

/**
 * False only when no rule above can match: every rule needs `:` or `=` (headers, URLs, JSON keys, query
 * parameters, assignments), or starts with one of these prefixes. One test instead of all of them for
 * the common short argument. Keep it in step with SECRET_HEADER_LINE and TOKEN_PATTERNS.
 */
const MAY_HOLD_SECRET = /[:=]|sk-|eyJ|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|gh[pousr]_|github_pat_|AIza|xox[abprs]-|hf_|Bearer|Basic/;

/** Returns `text` with credential header values and token-looking strings replaced by `[REDACTED]`. */
export function redactSecrets(text: string): string {
  let out = text.replace(SECRET_HEADER_LINE, `$1$2${REDACTED}`);
  for (const [re, replacement] of TOKEN_PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Flag names (without dashes, lower case, `_` as `-`) whose value is a credential. */
const SECRET_FLAG = /^(?:.*-)?(?:api-?key|apikey|access-?key|secret-?key|private-?key|key|token|auth-?token|access-?token|refresh-?token|password|passwd|pass|pwd|secret|client-?secret|credentials?|auth|authorization|cookie|sig|signature)$/;
/** Flags whose next argument is an HTTP header line (`-H 'Authorization: Bearer ...'`). */
const HEADER_FLAGS = new Set(['-H', '--header', '--proxy-header']);
/**
 * Short password flags of programs that are recognised by name: `sshpass -p PASS`, `redis-cli -a PASS`,
 * `mysql -pPASS` (attached only: a separate `-p` prompts), `curl -u user:PASS`, `docker login -p PASS`,
 * `openssl ... -passin pass:PASS`.
 */
const SHORT_SECRET_FLAGS: Record<string, { separate: readonly string[]; attached: readonly string[]; userPass: readonly string[]; subcommand?: string }> = {
  sshpass: { separate: ['-p'], attached: ['-p'], userPass: [] },
  'redis-cli': { separate: ['-a'], attached: [], userPass: [] },
  mysql: { separate: [], attached: ['-p'], userPass: [] },
  mysqldump: { separate: [], attached: ['-p'], userPass: [] },
  mariadb: { separate: [], attached: ['-p'], userPass: [] },
  mysqladmin: { separate: [], attached: ['-p'], userPass: [] },
  curl: { separate: [], attached: [], userPass: ['-u', '--user', '-U', '--proxy-user'] },
  docker: { separate: ['-p'], attached: [], userPass: [], subcommand: 'login' }, // not `docker run -p 8080:80`
  openssl: { separate: ['-passin', '-passout', '-pass', '-k'], attached: [], userPass: [] },
};
/** A lone argument this long that looks random (base64/base64url alphabet, mixed classes) is a token. */
const LONG_TOKEN = /^[A-Za-z0-9+/_.=-]{32,}$/;
const MIN_TOKEN_ENTROPY_BITS = 4.2;

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * A random-looking token: long, from a token alphabet, letters of both cases and digits, not made of
 * words, and an entropy no hex digest or UUID reaches (a git sha or sha256 stays readable).
 */
export function looksLikeToken(v: string): boolean {
  if (!LONG_TOKEN.test(v) || v.startsWith('/') || v.startsWith('.')) return false;
  if (!/[a-z]/.test(v) || !/[A-Z]/.test(v) || !/[0-9]/.test(v)) return false;
  // Identifiers, file names and relative paths are made of words with few digits; a random string
  // rarely has a run of five lowercase letters, and then usually several digits.
  if (/[a-z]{5}/.test(v) && (v.match(/[0-9]/g)?.length ?? 0) < 3) return false;
  return entropy(v) >= MIN_TOKEN_ENTROPY_BITS;
}

function isSecretFlag(flag: string): boolean {
  const name = flag.replace(/^-+/, '').toLowerCase().replace(/_/g, '-');
  return name.length > 0 && !name.startsWith('no-') && SECRET_FLAG.test(name);
}

/** `--flag=value`, `-f=value` or `NAME=value`: the part kept, and the value. */
const ASSIGNMENT = /^(-{0,2}[A-Za-z_][\w.-]*=)(.+)$/s;

/** One argument: the shared text rules, then the value (or the whole argument) if it looks like a token. */
function redactValue(v: string): string {
  if (!MAY_HOLD_SECRET.test(v)) return looksLikeToken(v) ? REDACTED : v;
  const out = redactSecrets(v);
  const m = ASSIGNMENT.exec(out);
  if (m) return looksLikeToken(m[2]!) ? m[1]! + REDACTED : out;
  return looksLikeToken(out) ? REDACTED : out;
}

/**
 * `argv` with credentials replaced by `[REDACTED]`, keeping every flag name so an analyst still sees
 * which flags were given: `--api-key=X` and `--token X` (any flag named like a credential), header
 * arguments (`-H 'Authorization: ...'`), recognised short password flags (`sshpass -p X`, `mysql -pX`,
 * `curl -u user:X`), and anywhere the rules of `redactSecrets` (key shapes, URL userinfo, query
 * parameters, `NAME_TOKEN=...`) plus lone random-looking tokens. Returns the same array when nothing
 * changed (the common case allocates nothing).
 */
export function redactArgs(argv: readonly string[]): readonly string[] {
  let out: string[] | undefined;
  const set = (i: number, v: string): void => {
    if (v === argv[i]) return;
    out ??= [...argv];
    out[i] = v;
  };
  const prog = argv.length > 0 ? argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1) : '';
  const known = SHORT_SECRET_FLAGS[prog];
  const short = known?.subcommand === undefined || argv.slice(1).find((a) => !a.startsWith('-')) === known.subcommand ? known : undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (i > 0 && a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const flag = eq > 0 ? a.slice(0, eq) : a;
      const next = argv[i + 1];
      if (isSecretFlag(flag) && a.startsWith('--')) {
        if (eq > 0) set(i, `${flag}=${REDACTED}`);
        // The value is the next argument unless that is another long option.
        else if (next !== undefined && !next.startsWith('--')) set(++i, REDACTED);
        continue;
      }
      if (HEADER_FLAGS.has(flag)) {
        if (eq > 0) set(i, `${flag}=${redactValue(a.slice(eq + 1))}`);
        else if (next !== undefined) set(++i, redactValue(next));
        continue;
      }
      if (short) {
        const two = a.slice(0, 2);
        if (short.separate.includes(a) && next !== undefined) {
          set(++i, REDACTED);
          continue;
        }
        if (a.length > 2 && !a.startsWith('--') && short.attached.includes(two)) {
          set(i, `${two}${REDACTED}`);
          continue;
        }
        if (short.userPass.includes(flag)) {
          const value = eq > 0 ? a.slice(eq + 1) : next;
          const colon = value?.indexOf(':') ?? -1;
          const hidden = colon >= 0 ? `${value!.slice(0, colon + 1)}${REDACTED}` : value;
          if (eq > 0) set(i, `${flag}=${hidden}`);
          else if (hidden !== undefined) set(++i, hidden);
          continue;
        }
      }
      // A single-dash secret flag with a value attached: -token=X, -password=X.
      if (eq > 0 && isSecretFlag(flag)) {
        set(i, `${flag}=${REDACTED}`);
        continue;
      }
    }
    set(i, redactValue(a));
  }
  return out ?? argv;
}

/**
 * Redacts the command line an SDK's process detector put in a resource (`process.command_args`, and
 * `process.command_line` split at spaces) in place. Returns whether anything changed.
 */
export function redactCommandLine(attributes: KeyValue[] | undefined): boolean {
  let changed = false;
  if (!attributes) return false;
  // Indexed: `for...of` made an iterator result per attribute where this runs unoptimised (every resource of a batch).
  for (let i = 0; i < attributes.length; i++) {
    const kv = attributes[i]!;
    if (kv.key === 'process.command_args') {
      const values = kv.value?.arrayValue?.values;
      if (!values || !values.every((v) => typeof v.stringValue === 'string')) continue;
      const args = values.map((v) => v.stringValue!);
      const out = redactArgs(args);
      if (out === args) continue;
      kv.value = { arrayValue: { values: out.map((a) => ({ stringValue: a })) } };
      changed = true;
    } else if (kv.key === 'process.command_line' && typeof kv.value?.stringValue === 'string') {
      const words = kv.value.stringValue.split(' ');
      const out = redactArgs(words);
      if (out === words) continue;
      kv.value = { stringValue: out.join(' ') };
      changed = true;
    }
  }
  return changed;
}
