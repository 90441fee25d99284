// Shadow AI: what the sensor's host-wide signatures (receiver/ebpf `shadow_ai`) say about a process that
// nobody instrumented or declared. Pure helpers; the entities are made in derive.ts.

/** `aibom.shadow.signature` values of kernel records, by the role they show. */
export const CLIENT_SIGNATURES = new Set(['provider_dns', 'inference_api']);
export const SERVER_SIGNATURES = new Set(['model_artifact', 'server_executable']);

/** Entity attribute: whether the workload exports its own telemetry (GenAI spans). */
export const INSTRUMENTED = 'aibom-collector:instrumented';
/** Entity attribute: `client` (calls a model API) or `model_server` (serves one), found by the sensor. */
export const SHADOW_ROLE = 'aibom-collector:shadow_ai';

/**
 * Provider API hosts -> `gen_ai.provider.name` (normalize's spellings), first match wins: a name starting
 * with `.` or `-` matches any host ending so, another matches itself and its subdomains.
 */
const PROVIDERS: readonly [string, string][] = [
  ['.openai.azure.com', 'azure.openai'],
  ['.cognitiveservices.azure.com', 'azure.openai'],
  ['.services.ai.azure.com', 'azure.ai.inference'],
  ['openai.com', 'openai'],
  ['anthropic.com', 'anthropic'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  ['-aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['.amazonaws.com', 'aws.bedrock'],
  ['mistral.ai', 'mistral_ai'],
  ['groq.com', 'groq'],
  ['together.xyz', 'together_ai'],
  ['together.ai', 'together_ai'],
  ['openrouter.ai', 'openrouter'],
  ['cohere.com', 'cohere'],
  ['cohere.ai', 'cohere'],
  ['deepseek.com', 'deepseek'],
  ['x.ai', 'x_ai'],
  ['huggingface.co', 'huggingface'],
  ['fireworks.ai', 'fireworks'],
  ['perplexity.ai', 'perplexity'],
];

/** The provider a host name belongs to; undefined for hosts that are no known provider (a local server). */
export function providerOfHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase().replace(/:\d+$/, '');
  for (const [suffix, name] of PROVIDERS) if (/^[.-]/.test(suffix) ? h.endsWith(suffix) : h === suffix || h.endsWith(`.${suffix}`)) return name;
  return undefined;
}

/** `/models/x.gguf` -> `x.gguf`. */
export function artifactName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}
