/**
 * Secret scrubbing for captured plaintext (HTTP heads, TLS payloads, JSON bodies) before it may leave
 * the host. Conservative on purpose: a false positive costs a few characters of context, a miss leaks
 * a credential. Values are replaced by `[REDACTED]`; names (header names, JSON keys) are kept so the
 * shape of the message stays visible.
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
];

/** Returns `text` with credential header values and token-looking strings replaced by `[REDACTED]`. */
export function redactSecrets(text: string): string {
  let out = text.replace(SECRET_HEADER_LINE, `$1$2${REDACTED}`);
  for (const [re, replacement] of TOKEN_PATTERNS) out = out.replace(re, replacement);
  return out;
}
