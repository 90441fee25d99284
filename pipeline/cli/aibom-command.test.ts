import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aibomCommand } from './aibom-command.js';

const testdata = (name: string) => fileURLToPath(new URL(`../../processors/aibom/testdata/${name}`, import.meta.url));

async function run(sub: string | undefined, args: Parameters<typeof aibomCommand>[1]) {
  let out = '';
  let err = '';
  const code = await aibomCommand(sub, args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe('aibom diff / show', () => {
  it('exits 0 without findings, 1 with findings (table or JSON), 2 on errors', async () => {
    const cdxgen = testdata('cdxgen-agent-js.cdx.json');
    expect(await run('diff', { declared: cdxgen, observed: cdxgen })).toMatchObject({ code: 0, out: 'no findings: what ran is what was declared\n' });

    const json = await run('diff', { declared: testdata('declared.yaml'), observed: cdxgen, format: 'json' });
    expect(json.code).toBe(1);
    const { findings } = JSON.parse(json.out) as { findings: { type: string; kind: string; name: string; evidence: string[] }[] };
    expect(findings).toContainEqual({ type: 'undeclared', kind: 'mcp_server', name: 'aibom-test-mcp', evidence: [] });
    expect(findings).toContainEqual({ type: 'unobserved', kind: 'tool', name: 'search_kb', evidence: [] });
    const table = await run('diff', { declared: testdata('declared.yaml'), observed: cdxgen });
    expect(table.out).toMatch(/^TYPE\s+KIND\s+NAME/);
    expect(table.out).toMatch(/undeclared\s+mcp_server\s+aibom-test-mcp/);

    expect((await run('diff', {})).code).toBe(2);
    expect(await run('diff', { declared: '/nonexistent.yaml', observed: cdxgen })).toMatchObject({ code: 2, err: expect.stringContaining('/nonexistent.yaml') });
    expect(await run('diff', { declared: cdxgen, observed: cdxgen, format: 'xml' })).toMatchObject({ code: 2, err: expect.stringContaining('--format must be json or table') });
    expect(await run('diff', { declared: cdxgen, observed: 'http://127.0.0.1:1/v1/aibom' })).toMatchObject({ code: 2, err: expect.stringContaining('is the collector running') });
    expect((await run('frobnicate', {})).code).toBe(2);
  });

  it('show prints agents with what they use, and what no agent links to', async () => {
    const r = await run('show', { url: testdata('cdxgen-agent-js.cdx.json') });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('mcp_server aibom-test-mcp');
    expect(r.out).toMatch(/tool lookup_order.*\n└─ mcp_server aibom-test-mcp/);
  });
});
