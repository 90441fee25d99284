import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminRoutes } from '../admin-routes.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { listen, splitHostPort } from '../listen.js';
import { wantsOpenMetrics } from '../telemetry/exposition.js';

/**
 * Self-observability: /healthz (the process answers), /readyz (every component started and the
 * service is not stopping) and /metrics (OpenMetrics with exemplars when the scraper asks for it, Prometheus text otherwise), plus the GET routes components registered
 * (e.g. GET /v1/aibom, POST /v1/baselines/freeze). Bound to loopback by default because the counters describe the monitored workloads.
 */
export class AdminServer {
  private server: http.Server | undefined;
  address = '';

  constructor(
    private readonly endpoint: string,
    private readonly metrics: Metrics,
    private readonly ready: () => boolean,
    private readonly logger: Logger,
    private readonly routes: AdminRoutes,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      void this.handle(req.method ?? 'GET', req.url ?? '/', res, req.headers.accept);
    });
    const { host, port } = splitHostPort(this.endpoint);
    await listen(server, port, host);
    this.server = server;
    const a = server.address() as AddressInfo;
    this.address = `${a.address}:${a.port}`;
    this.logger.info({ address: this.address }, 'admin listener started');
  }

  private async handle(method: string, url: string, res: http.ServerResponse, accept: string | undefined): Promise<void> {
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ok = this.ready();
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    }
    if (path === '/metrics') {
      const { contentType, body } = await this.metrics.render(wantsOpenMetrics(accept));
      return void res.writeHead(200, { 'content-type': contentType }).end(body);
    }
    const found = this.routes.match(method, path);
    if (found.route) {
      try {
        const r = await found.route(new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''), { method: method === 'POST' ? 'POST' : 'GET', params: found.params });
        return void res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body);
      } catch (err) {
        this.logger.error({ err, path }, 'admin route failed');
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`${path} failed: ${(err as Error).message}\n`);
      }
    }
    if (found.methods.length > 0) return void res.writeHead(405, { 'content-type': 'text/plain', allow: found.methods.join(', ') }).end(`${path} allows ${found.methods.join(', ')}\n`);
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${['/healthz', '/readyz', '/metrics', ...this.routes.paths()].join(', ')}\n`);
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
}
