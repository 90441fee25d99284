import { describe, expect, it } from 'vitest';
import type { CanonicalSpan } from '../normalize/index.js';
import { recordView } from './span-record.js';

const view = (over: Partial<CanonicalSpan>): CanonicalSpan => ({ kind: 'llm', source: 'gen_ai', modelName: 'gpt-4o', provider: 'openai', serverAddress: 'api.openai.com', inputTokens: 12, ...over });

describe('recordView', () => {
  it('keeps the fields the baseline reads, with the view\'s values', () => {
    const v = view({ requestModel: 'gpt-4o-mini', toolName: 't', dataSourceId: 'ds' });
    expect(recordView(v)).toEqual({ kind: 'llm', modelName: 'gpt-4o', requestModel: 'gpt-4o-mini', provider: 'openai', toolName: 't', toolArguments: undefined, dataSourceId: 'ds' });
  });

  it('is one shared frozen object for views with the same kept values, whatever else they differ in', () => {
    const a = recordView(view({ inputTokens: 1, conversationId: 'c1' }));
    const b = recordView(view({ inputTokens: 2, conversationId: 'c2', serverPort: 443 }));
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('differs when any kept value or the kind differs', () => {
    const base = recordView(view({}));
    for (const over of [{ modelName: 'gpt-4.1' }, { requestModel: 'x' }, { provider: 'azure.openai' }, { toolName: 'search' }, { dataSourceId: 'd' }, { kind: 'tool' as const }]) {
      const r = recordView(view(over));
      expect(r).not.toBe(base);
      expect(r).toMatchObject(over);
    }
  });

  it('gives a span with tool arguments its own', () => {
    const v = view({ kind: 'tool', toolName: 'read_file', toolArguments: '{"path":"/etc/passwd"}' });
    const a = recordView(v);
    expect(a.toolArguments).toBe('{"path":"/etc/passwd"}');
    expect(recordView(v)).not.toBe(a);
  });

  it('still finds the right values after more distinct sets than it keeps per kind', () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) expect(recordView(view({ modelName: `m${i}` })).modelName).toBe(`m${i}`);
    }
  });
});
