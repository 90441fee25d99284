/**
 * Strict, error-collecting reading of one YAML map. Every problem is recorded with the exact path
 * (`exporters.otlp/jaeger.retry_on_failure.max_elapsed_time`) and reading continues, so `validate`
 * can list every error at once. Unknown keys are errors, as in the OpenTelemetry Collector.
 */
export class ConfigErrors {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(path ? `${path}: ${message}` : message);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
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

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

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
    this.errors.add(path, `expected ${what}, got ${describe(v)}`);
    return undefined;
  }

  string(key: string, def: string): string {
    return this.read(key, def, (v, p) => (typeof v === 'string' ? v : this.fail(p, 'a string', v)));
  }

  optionalString(key: string): string | undefined {
    return this.read<string | undefined>(key, undefined, (v, p) => (typeof v === 'string' ? v : this.fail(p, 'a string', v)));
  }

  bool(key: string, def: boolean): boolean {
    return this.read(key, def, (v, p) => (typeof v === 'boolean' ? v : this.fail(p, 'true or false', v)));
  }

  int(key: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    return this.read(key, def, (v, p) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(p, 'an integer', v);
      if (v < min || v > max) {
        this.errors.add(p, `must be between ${min} and ${max}, got ${v}`);
        return undefined;
      }
      return v;
    });
  }

  number(key: string, def: number, min = -Infinity, max = Infinity): number {
    return this.read(key, def, (v, p) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(p, 'a number', v);
      if (v < min || v > max) {
        this.errors.add(p, `must be between ${min} and ${max}, got ${v}`);
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
      this.errors.add(p, `must be one of ${values.join(', ')}, got ${describe(v)}`);
      return undefined;
    });
  }

  stringList(key: string, def: readonly string[]): string[] {
    return this.read(key, [...def], (v, p) => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return this.fail(p, 'a list of strings', v);
      return [...(v as string[])];
    });
  }

  /** A string -> string map (headers). */
  stringMap(key: string): Record<string, string> {
    const sub = this.section(key);
    const out: Record<string, string> = {};
    for (const k of sub.keys()) out[k] = sub.string(k, '');
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

/** host:port with a numeric port; empty host means all interfaces. */
export function checkEndpoint(section: Section, key: string, value: string): void {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) section.error(key, `must be host:port, got ${JSON.stringify(value)}`);
}
