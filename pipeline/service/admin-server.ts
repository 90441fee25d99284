import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminRoutes } from '../admin-routes.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { listen, splitHostPort } from '../listen.js';

/**
 * Self-observability: /healthz (the process answers), /readyz (every component started and the
 * service is not stopping) and /metrics (Prometheus text), plus the GET routes components registered
 * (e.g. /v1/aibom). Bound to loopback by default because the counters describe the monitored workloads.
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
      void this.handle(req.method ?? 'GET', req.url ?? '/', res);
    });
    const { host, port } = splitHostPort(this.endpoint);
    await listen(server, port, host);
    this.server = server;
    const a = server.address() as AddressInfo;
    this.address = `${a.address}:${a.port}`;
    this.logger.info({ address: this.address }, 'admin listener started');
  }

  private async handle(method: string, url: string, res: http.ServerResponse): Promise<void> {
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ok = this.ready();
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    }
    if (path === '/metrics') {
      const body = await this.metrics.registry.metrics();
      return void res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    }
    const route = this.routes.get(path);
    if (route) {
      if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET' }).end('only GET\n');
      try {
        const r = await route(new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''));
        return void res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body);
      } catch (err) {
        this.logger.error({ err, path }, 'admin route failed');
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`${path} failed: ${(err as Error).message}\n`);
      }
    }
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
