/**
 * Strict, error-collecting reading of one YAML map. Every problem is recorded with the exact path
 * (`exporters.otlp/jaeger.retry_on_failure.max_elapsed_time`) and reading continues, so `validate`
 * can list every error at once. Unknown keys are errors, as in the OpenTelemetry Collector.
 */
export class ConfigErrors {
  readonly list: string[] = [];
  /** What `${env:...}` substitution produced, by value path (shared by one reading of a document). */
  readonly fromEnv = new Map<string, EnvOrigin>();
  add(path: string, message: string): void {
    this.list.push(path ? `${path}: ${message}` : message);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** A value that came (partly) from environment variables. */
export interface EnvOrigin {
  /** The text after substitution, before a whole reference was re-read as a YAML scalar. */
  text: string;
  /** True when the value is exactly one reference (it was re-read as YAML: `null`, `true`, 42 ...). */
  whole: boolean;
  /** Variables that are set but empty: a secret built from one is an accident, not a choice. */
  emptyVariables: string[];
  /** The variables referenced that are set (not defaults). */
  variables: string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly errors: readonly string[]) {
    super(`invalid configuration:\n  - ${errors.join('\n  - ')}`);
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/;
const SIZE_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** What a value is, for an error message; `hideValue` for keys that hold secrets (the type only). */
export function describe(v: unknown, hideValue = false): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return hideValue ? `a ${typeof v}` : `${typeof v} ${JSON.stringify(v)}`;
}

/** YAML 1.2 core scalars that are not strings: an env value like this where a secret belongs is a mistake. */
const YAML_NULL = /^(?:null|Null|NULL|~|)$/;
const YAML_BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/;

export class Section {
  private readonly map: Record<string, unknown>;
  private readonly seen = new Set<string>();

  constructor(
    raw: unknown,
    readonly path: string,
    readonly errors: ConfigErrors,
  ) {
    if (raw === null || raw === undefined) this.map = {};
    else if (typeof raw === 'object' && !Array.isArray(raw)) this.map = raw as Record<string, unknown>;
    else {
      errors.add(path, `expected a map, got ${describe(raw)}`);
      this.map = {};
    }
  }

  private child(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.map[key] !== undefined && this.map[key] !== null;
  }

  keys(): string[] {
    return Object.keys(this.map);
  }

  /** The raw value, marking the key as known. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.map[key];
  }

  private read<T>(key: string, def: T, convert: (v: unknown, path: string) => T | undefined): T {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    const out = convert(v, this.child(key));
    return out === undefined ? def : out;
  }

  private fail(path: string, what: string, v: unknown): undefined {
    this.errors.add(path, `expected ${what}, got ${describe(v, isSecretPath(path))}`);
    return undefined;
  }

  /**
   * A string key keeps the text an environment variable gave it: `${env:X}` with X=`123`, `true` or
   * `null` is that string, not a number, a boolean, or an absent key.
   */
  private readString(key: string): unknown {
    const v = this.raw(key);
    const env = this.errors.fromEnv.get(this.child(key));
    return env?.whole && typeof v !== 'string' ? env.text : v;
  }

  private asString(v: unknown, p: string): string | undefined {
    return typeof v === 'string' ? v : this.fail(p, 'a string', v);
  }

  string(key: string, def: string): string {
    const v = this.readString(key);
    return v === undefined || v === null ? def : (this.asString(v, this.child(key)) ?? def);
  }

  optionalString(key: string): string | undefined {
    const v = this.readString(key);
    return v === undefined || v === null ? undefined : this.asString(v, this.child(key));
  }

  /**
   * A credential (token, header value). Written literally it reads like `string`; from the environment
   * a variable that is set but empty, or holds a YAML null or boolean, is an error naming the key and
   * the variable, never the value: it would silently turn authentication off.
   */
  secret(key: string, def: string): string {
    const value = this.string(key, def);
    const env = this.errors.fromEnv.get(this.child(key));
    if (!env) return value;
    const [empty] = env.emptyVariables;
    if (empty !== undefined) {
      this.error(key, `environment variable ${empty} is set but empty, so this credential would be empty; set ${empty}, or remove the key`);
    } else if (env.whole && env.variables.length > 0 && (YAML_NULL.test(env.text) || YAML_BOOL.test(env.text))) {
      const what = YAML_BOOL.test(env.text) ? 'a YAML boolean' : 'a YAML null';
      this.error(key, `environment variable ${env.variables[0] ?? ''} holds ${what}, not a credential; set it to the credential, or remove the key`);
    }
    return value;
  }

  bool(key: string, def: boolean): boolean {
    return this.read(key, def, (v, p) => (typeof v === 'boolean' ? v : this.fail(p, 'true or false', v)));
  }

  int(key: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    return this.read(key, def, (v, p) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(p, 'an integer', v);
      if (v < min || v > max) {
        this.errors.add(p, `must be between ${min} and ${max}, got ${isSecretPath(p) ? 'another number' : v}`);
        return undefined;
      }
      return v;
    });
  }

  number(key: string, def: number, min = -Infinity, max = Infinity): number {
    return this.read(key, def, (v, p) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(p, 'a number', v);
      if (v < min || v > max) {
        this.errors.add(p, `must be between ${min} and ${max}, got ${isSecretPath(p) ? 'another number' : v}`);
        return undefined;
      }
      return v;
    });
  }

  /** A Go-style duration ("5s", "200ms", "1.5m"), returned in milliseconds. */
  duration(key: string, defMs: number): number {
    return this.read(key, defMs, (v, p) => {
      const m = typeof v === 'string' ? DURATION.exec(v.trim()) : null;
      if (!m) return this.fail(p, 'a duration like "5s" or "200ms"', v);
      return Number(m[1]) * DURATION_MS[m[2]!]!;
    });
  }

  /** A size in bytes: an integer, or a string like "4MiB". */
  bytes(key: string, def: number): number {
    return this.read(key, def, (v, p) => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
      const m = typeof v === 'string' ? SIZE.exec(v.trim()) : null;
      if (!m) return this.fail(p, 'a size like 4194304 or "4MiB"', v);
      return Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!;
    });
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    return this.read(key, def, (v, p) => {
      if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
      this.errors.add(p, `must be one of ${values.join(', ')}, got ${describe(v, isSecretPath(p))}`);
      return undefined;
    });
  }

  stringList(key: string, def: readonly string[]): string[] {
    return this.read(key, [...def], (v, p) => {
      if (!Array.isArray(v)) return this.fail(p, 'a list of strings', v);
      const list = v.map((x, i) => {
        const env = this.errors.fromEnv.get(`${p}[${i}]`);
        return env?.whole && typeof x !== 'string' ? env.text : x;
      });
      if (!list.every((x) => typeof x === 'string')) return this.fail(p, 'a list of strings', v);
      return list as string[];
    });
  }

  /** A string -> string map (headers); values of credential-named keys (`authorization`) are read as secrets. */
  stringMap(key: string): Record<string, string> {
    const sub = this.section(key);
    const out: Record<string, string> = {};
    for (const k of sub.keys()) out[k] = SECRET_KEY.test(k) ? sub.secret(k, '') : sub.string(k, '');
    return out;
  }

  section(key: string): Section {
    return new Section(this.raw(key), this.child(key), this.errors);
  }

  /** Reports keys nobody read. Call after reading everything the component owns. */
  done(): void {
    const unknown = Object.keys(this.map).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) this.errors.add(this.path, `has invalid keys: ${unknown.join(', ')}`);
  }

  /** Records an error on one of this section's keys. */
  error(key: string, message: string): void {
    this.errors.add(this.child(key), message);
  }
}

/** Names of keys whose values are credentials: errors about them never show the value. */
const SECRET_KEY = /(?:token|password|passwd|secret|api[_-]?key|apikey|authorization|credential|cookie|private[_-]?key|^key)$/i;

/** A value path (`exporters.otlp.headers.x-api-key`) whose value must not appear in a message. */
export function isSecretPath(path: string): boolean {
  const last = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  return SECRET_KEY.test(last) || /(?:^|\.)headers(?:\.|$)/.test(path);
}

/** host:port with a numeric port; empty host means all interfaces. */
export function checkEndpoint(section: Section, key: string, value: string): void {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) section.error(key, `must be host:port, got ${JSON.stringify(value)}`);
}
