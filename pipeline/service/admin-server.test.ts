import { afterEach, describe, expect, it } from 'vitest';
import { AdminRoutes } from '../admin-routes.js';
import { silentLogger } from '../telemetry/logger.js';
import { Metrics } from '../telemetry/metrics.js';
import { AdminServer } from './admin-server.js';

describe('admin listener routes', () => {
  let server: AdminServer | undefined;
  afterEach(async () => server?.shutdown());

  it('serves GET and POST routes with path parameters; a literal path wins over a pattern; a wrong method is 405 naming the allowed ones', async () => {
    const routes = new AdminRoutes();
    const text = (body: string) => ({ status: 200, contentType: 'text/plain', body });
    routes.register('/v1/things', 'a', () => text('list'));
    routes.register('/v1/things/{id}', 'a', (q, r) => text(`get ${r.params.id} ${q.get('format') ?? ''}`));
    routes.register('/v1/things/freeze', 'a', (q, r) => text(`${r.method} freeze ${q.get('id') ?? 'all'}`), 'POST');
    expect(() => routes.register('/v1/things', 'b', () => text('x'))).toThrow(/already served by a/);
    server = new AdminServer('127.0.0.1:0', new Metrics(), () => true, silentLogger(), routes);
    await server.start();
    const url = `http://${server.address}`;
    const call = async (method: string, path: string) => {
      const res = await fetch(`${url}${path}`, { method });
      return [res.status, await res.text(), res.headers.get('allow')];
    };
    expect(await call('GET', '/v1/things')).toEqual([200, 'list', null]);
    expect(await call('GET', '/v1/things/tool%3Aabc?format=yaml')).toEqual([200, 'get tool:abc yaml', null]);
    expect(await call('POST', '/v1/things/freeze?id=x')).toEqual([200, 'POST freeze x', null]);
    expect(await call('POST', '/v1/things')).toEqual([405, '/v1/things allows GET\n', 'GET']);
    expect((await call('GET', '/v1/nothing'))[0]).toBe(404);
    routes.unregister('/v1/things/freeze', 'a', 'POST');
    expect((await call('POST', '/v1/things/freeze'))[0]).toBe(405);
  });
});
