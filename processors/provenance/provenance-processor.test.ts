import { describe, expect, test } from 'vitest';
import { harness, readTraces } from './testdata/harness.js';

describe('provenance on the reference agents (real LangChain.js/OpenInference and LangChain Python/OpenLLMetry spans)', () => {
  test('trial', async () => {
    const h = harness();
    const found = await h.run(readTraces('reference-agents.jsonl'));
    for (const d of found) console.log(d['aibom.deviation.rule'], d['aibom.chain.tool.name'], d['aibom.deviation.source.name'], d['aibom.deviation.observed'], d['aibom.provenance.values']?.length, d.traceId.slice(0, 8));
    expect(found.length).toBeGreaterThan(0);
  });
});
