/**
 * Model-provider names, normalised to one spelling whatever the instrumentation wrote
 * (`gen_ai.provider.name`, legacy `gen_ai.system`, OpenInference `llm.provider`/`llm.system`, LangChain
 * `ls_provider`), plus the last-resort guesses from the server address and the model name.
 * Canonical names follow the GenAI semconv well-known values, except Azure OpenAI (`azure.openai`).
 */

const ALIASES: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  'azure.openai': 'azure.openai',
  'azure.ai.openai': 'azure.openai',
  'az.ai.openai': 'azure.openai',
  azure_openai: 'azure.openai',
  'azure-openai': 'azure.openai',
  azureopenai: 'azure.openai',
  // OpenInference `llm.provider` writes `azure` for Azure OpenAI.
  azure: 'azure.openai',
  'azure.ai.inference': 'azure.ai.inference',
  'az.ai.inference': 'azure.ai.inference',
  'aws.bedrock': 'aws.bedrock',
  aws_bedrock: 'aws.bedrock',
  amazon_bedrock: 'aws.bedrock',
  bedrock: 'aws.bedrock',
  // OpenInference `llm.provider` writes `aws` for Bedrock.
  aws: 'aws.bedrock',
  'gcp.vertex_ai': 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  google_vertexai: 'gcp.vertex_ai',
  'gcp.gemini': 'gcp.gemini',
  gemini: 'gcp.gemini',
  google_genai: 'gcp.gemini',
  google_ai: 'gcp.gemini',
  'gcp.gen_ai': 'gcp.gen_ai',
  // OpenInference `llm.provider` writes `google` without saying which Google endpoint.
  google: 'gcp.gen_ai',
  ollama: 'ollama',
  cohere: 'cohere',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  mistral_ai: 'mistral_ai',
  groq: 'groq',
  deepseek: 'deepseek',
  perplexity: 'perplexity',
  xai: 'x_ai',
  x_ai: 'x_ai',
  'ibm.watsonx.ai': 'ibm.watsonx.ai',
  watsonx: 'ibm.watsonx.ai',
  huggingface: 'huggingface',
  hugging_face: 'huggingface',
  together: 'together_ai',
  togetherai: 'together_ai',
  together_ai: 'together_ai',
  fireworks: 'fireworks_ai',
  fireworks_ai: 'fireworks_ai',
  openrouter: 'openrouter',
};

/**
 * Values instrumentations put in provider attributes that name the agent framework, not who serves
 * the model: OpenLLMetry writes `gen_ai.provider.name=langgraph` on task and tool spans, LangSmith
 * defaults `gen_ai.system` to `langchain`.
 */
const NOT_A_PROVIDER: ReadonlySet<string> = new Set([
  '',
  'unknown',
  'langchain',
  'langgraph',
  'llamaindex',
  'llama_index',
  'crewai',
  'autogen',
  'haystack',
  'dspy',
  'semantic_kernel',
  'mcp',
]);

const cache = new Map<string, string | undefined>();
const CACHE_MAX = 512;

/** The canonical provider for a value written by an instrumentation; undefined for framework names. */
export function normalizeProvider(raw: string): string | undefined {
  const hit = cache.get(raw);
  if (hit !== undefined || cache.has(raw)) return hit;
  const lower = raw.trim().toLowerCase();
  const out = NOT_A_PROVIDER.has(lower) ? undefined : (ALIASES[lower] ?? lower);
  if (cache.size >= CACHE_MAX) cache.clear(); // values repeat a lot; a full cache means junk input
  cache.set(raw, out);
  return out;
}

/** Provider of a well-known API host, or of Ollama's default port. */
export function providerFromServer(address: string | undefined, port: number | undefined): string | undefined {
  if (address) {
    const host = address.toLowerCase();
    if (host === 'api.openai.com') return 'openai';
    if (host.endsWith('.openai.azure.com')) return 'azure.openai';
    if (host === 'api.anthropic.com') return 'anthropic';
    if (host.startsWith('bedrock-runtime.') && host.endsWith('.amazonaws.com')) return 'aws.bedrock';
    if (host.endsWith('aiplatform.googleapis.com')) return 'gcp.vertex_ai';
    if (host === 'generativelanguage.googleapis.com') return 'gcp.gemini';
    if (host === 'api.mistral.ai') return 'mistral_ai';
    if (host === 'api.cohere.com' || host === 'api.cohere.ai') return 'cohere';
    if (host === 'api.groq.com') return 'groq';
    if (host === 'api.deepseek.com') return 'deepseek';
    if (host === 'api.x.ai') return 'x_ai';
  }
  if (port === 11434) return 'ollama';
  return undefined;
}

const BEDROCK_PREFIXES = ['anthropic.', 'amazon.', 'meta.', 'ai21.', 'cohere.', 'mistral.', 'us.', 'eu.', 'apac.', 'global.'];
const OPENAI_PREFIXES = ['gpt-', 'chatgpt-', 'text-embedding-', 'davinci', 'babbage', 'dall-e', 'whisper', 'tts-', 'omni-moderation', 'codex-'];
const MISTRAL_PREFIXES = ['mistral', 'mixtral', 'codestral', 'ministral', 'pixtral', 'magistral', 'devstral'];

/** Last resort: the provider a model name implies. Only the unambiguous families. */
export function providerFromModel(model: string | undefined): string | undefined {
  if (!model) return undefined;
  const m = model.toLowerCase();
  if (BEDROCK_PREFIXES.some((p) => m.startsWith(p))) return 'aws.bedrock'; // Bedrock ids: vendor.model-vN:0
  if (m.startsWith('ft:')) return 'openai'; // fine-tuned: ft:gpt-4o-mini:org::id
  if (m.includes(':')) return 'ollama'; // Ollama tags: llama3.1:8b, mistral:7b, gpt-oss:20b
  if (OPENAI_PREFIXES.some((p) => m.startsWith(p))) return 'openai';
  if (m.length >= 2 && m[0] === 'o' && m[1]! >= '1' && m[1]! <= '9' && (m.length === 2 || m[2] === '-')) return 'openai'; // o1, o3-mini, o4-mini
  if (m.startsWith('claude')) return 'anthropic';
  if (m.startsWith('gemini')) return 'gcp.gen_ai';
  if (MISTRAL_PREFIXES.some((p) => m.startsWith(p))) return 'mistral_ai';
  if (m.startsWith('command-') || m.startsWith('embed-english') || m.startsWith('embed-multilingual')) return 'cohere';
  if (m.startsWith('grok')) return 'x_ai';
  if (m.startsWith('deepseek')) return 'deepseek';
  return undefined;
}
