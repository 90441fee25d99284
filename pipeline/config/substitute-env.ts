import YAML from 'yaml';
import { ConfigErrors } from './section.js';

// ${env:NAME}, ${NAME} and ${env:NAME:-default}; "$$" is a literal "$".
const REF = /\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces environment references inside string values of the parsed YAML, never in keys, so a
 * value cannot change the document's structure. A value that is exactly one reference is re-read
 * as a YAML scalar, so `port: ${env:PORT}` yields a number as it would written literally; the text
 * is kept in `errors.fromEnv` so a key that expects a string (a token) reads the text instead.
 * An unset variable with no default is an error naming the variable, never showing a value.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  errors: ConfigErrors,
  path = '',
): unknown {
  if (typeof value === 'string') return substituteString(value, env, errors, path);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, errors, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, errors, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

function substituteString(s: string, env: NodeJS.ProcessEnv, errors: ConfigErrors, path: string): unknown {
  if (!s.includes('$')) return s;
  let whole = false;
  const variables: string[] = [];
  const emptyVariables: string[] = [];
  const replaced = s.replace(REF, (match, name: string | undefined, def: string | undefined, offset: number) => {
    if (match === '$$') return '$';
    whole = offset === 0 && match.length === s.length;
    const v = env[name!];
    if (v !== undefined) {
      variables.push(name!);
      if (v === '') emptyVariables.push(name!);
      return v;
    }
    if (def !== undefined) return def;
    errors.add(path, `environment variable ${name} is not set (write \${env:${name}:-} for an empty default)`);
    return '';
  });
  if (variables.length === 0 && !whole) return replaced;
  errors.fromEnv.set(path, { text: replaced, whole, variables, emptyVariables });
  if (!whole) return replaced;
  return yamlScalar(replaced);
}

/**
 * The value a literal would have had. Text that is not one plain scalar (`a: b`, `[x`, `#x`, `!tag x`)
 * stays text: YAML's own errors and warnings would quote it, and it may be a secret.
 */
function yamlScalar(text: string): unknown {
  if (text === '') return '';
  if (/^[\s#!&*|>%@`'"[\]{},?:]/.test(text) || /: |\s#/.test(text)) return text;
  try {
    const scalar: unknown = YAML.parse(text, { logLevel: 'silent' });
    return scalar !== null && typeof scalar === 'object' ? text : scalar;
  } catch {
    return text;
  }
}
