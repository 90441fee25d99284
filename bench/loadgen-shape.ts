/**
 * What bench/loadgen puts on every LLM client span (`llmSpan` in bench/loadgen/main.go), for the
 * in-process benches that measure one processor on the pass-through bench's load.
 */
export const LOADGEN_LLM_ATTRIBUTES = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.usage.input_tokens': 812,
  'gen_ai.usage.output_tokens': 96,
  'server.address': 'api.openai.com',
  'server.port': 443,
  'http.request.method': 'POST',
  'http.response.status_code': 200,
  'gen_ai.request.temperature': 0.2,
} as const;

/** The attributes of the `gen_ai.choice` event on each of those spans. */
export const LOADGEN_CHOICE_ATTRIBUTES = { index: 0, 'gen_ai.response.finish_reason': 'stop' } as const;
