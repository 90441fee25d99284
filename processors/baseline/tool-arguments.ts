/**
 * A tool call's arguments as a flat map (`payload.body` for nested keys, two levels), whatever the
 * instrumentation wrote: JSON (OpenInference, GenAI), OpenLLMetry's wrapper whose `input_str` is a
 * Python repr, LangSmith's `{"input": ...}`. Text that is neither is one argument, `input`.
 */
export function toolArguments(raw: string): Map<string, unknown> {
  let v = parseJson(raw);
  if (isObject(v) && typeof v.input_str === 'string') v = parsePythonLiteral(v.input_str) ?? { input: v.input_str };
  else if (isObject(v) && isObject(v.inputs)) v = v.inputs;
  const out = new Map<string, unknown>();
  if (!isObject(v)) {
    out.set('input', v === undefined ? raw : v);
    return out;
  }
  flatten(v, '', 2, out);
  return out;
}

function flatten(o: Record<string, unknown>, prefix: string, depth: number, out: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(o)) {
    if (isObject(v) && depth > 1) flatten(v, `${prefix}${k}.`, depth - 1, out);
    else out.set(`${prefix}${k}`, v);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** `{'query': 'x', 'top_k': 3, 'ok': True}`: Python literals as OpenLLMetry writes them; undefined if not one. */
export function parsePythonLiteral(s: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '{' || c === '[' || c === '(') {
      const close = c === '{' ? '}' : c === '[' ? ']' : ')';
      i++;
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      ws();
      while (s[i] !== close) {
        const k = value();
        ws();
        if (c === '{') {
          if (s[i++] !== ':') throw new Error('expected :');
          obj[String(k)] = value();
        } else arr.push(k);
        ws();
        if (s[i] === ',') i++;
        ws();
        if (i >= s.length) throw new Error('unterminated');
      }
      i++;
      return c === '{' ? obj : arr;
    }
    if (c === "'" || c === '"') {
      let out = '';
      i++;
      while (i < s.length && s[i] !== c) {
        if (s[i] === '\\') {
          const n = s[++i];
          out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        } else out += s[i];
        i++;
      }
      if (s[i++] !== c) throw new Error('unterminated string');
      return out;
    }
    const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|True|False|None)/.exec(s.slice(i));
    if (!m) throw new Error(`unexpected ${c}`);
    i += m[0].length;
    return m[0] === 'True' ? true : m[0] === 'False' ? false : m[0] === 'None' ? null : Number(m[0]);
  };
  try {
    const v = value();
    ws();
    return i === s.length ? v : undefined;
  } catch {
    return undefined;
  }
}
