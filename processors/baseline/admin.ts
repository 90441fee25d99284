import { stringify } from 'yaml';
import type { AdminResponse, AdminRoutes } from '../../pipeline/admin-routes.js';
import type { Detector } from './detector.js';

export const BASELINES_ROUTE = '/v1/baselines';

const json = (status: number, body: unknown): AdminResponse => ({ status, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(body, null, 1)}\n` });
const text = (status: number, body: string): AdminResponse => ({ status, contentType: 'text/plain; charset=utf-8', body: `${body}\n` });

/**
 * The baselines on the admin listener: list, one profile (JSON, or YAML with `?format=yaml`; either
 * is the file format, so an exported profile can be reviewed and copied back into the directory),
 * freeze (end learning now, all or `?id=`) and reset (`?id=`, learn again from nothing). The POSTs
 * change only the collector's own profiles.
 */
export function registerBaselineRoutes(routes: AdminRoutes, owner: string, detector: Detector, changed: () => void, now: () => number): string[] {
  const paths: [string, 'GET' | 'POST'][] = [
    [BASELINES_ROUTE, 'GET'],
    [`${BASELINES_ROUTE}/{id}`, 'GET'],
    [`${BASELINES_ROUTE}/freeze`, 'POST'],
    [`${BASELINES_ROUTE}/reset`, 'POST'],
  ];
  routes.register(BASELINES_ROUTE, owner, () =>
    json(200, {
      profiles: [...detector.profiles.values()].map((p) => ({
        id: p.id,
        component: p.component,
        state: p.state,
        completeness: p.completeness,
        ...(p.partialReason ? { partialReason: p.partialReason } : {}),
        observations: p.observations,
        firstSeen: new Date(p.firstSeenMs).toISOString(),
        lastSeen: new Date(p.lastSeenMs).toISOString(),
      })),
    }),
  );
  routes.register(`${BASELINES_ROUTE}/{id}`, owner, (q, req) => {
    const p = detector.profiles.get(req.params.id ?? '');
    if (!p) return text(404, `no baseline profile ${JSON.stringify(req.params.id)}: GET ${BASELINES_ROUTE} lists them`);
    const format = q.get('format') ?? 'json';
    if (format === 'yaml') return { status: 200, contentType: 'application/yaml; charset=utf-8', body: stringify(p.toDoc()) };
    if (format !== 'json') return text(400, `format must be json or yaml, got ${JSON.stringify(format)}`);
    return json(200, p.toDoc());
  });
  routes.register(
    `${BASELINES_ROUTE}/freeze`,
    owner,
    (q) => {
      const id = q.get('id') ?? undefined;
      const frozen = detector.freeze(now(), id);
      if (!frozen) return text(404, `no baseline profile ${JSON.stringify(id)}`);
      changed();
      return json(200, { frozen });
    },
    'POST',
  );
  routes.register(
    `${BASELINES_ROUTE}/reset`,
    owner,
    (q) => {
      const id = q.get('id');
      if (!id) return text(400, 'reset needs ?id=<profile id> (one profile at a time)');
      if (!detector.reset(id, now())) return text(404, `no baseline profile ${JSON.stringify(id)}`);
      changed();
      return json(200, { reset: id });
    },
    'POST',
  );
  return paths.map(([p, m]) => `${m} ${p}`);
}

export function unregisterBaselineRoutes(routes: AdminRoutes, owner: string, registered: readonly string[]): void {
  for (const r of registered) {
    const [method, path] = r.split(' ') as ['GET' | 'POST', string];
    routes.unregister(path, owner, method);
  }
}
