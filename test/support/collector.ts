import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePorts } from './ports.js';
import { Proc, waitFor } from './process.js';
import { collectorLauncher } from './tools.js';

/** The built aibom-collector CLI running a config, as a user runs it (through its launcher). */
export class Collector {
  private constructor(
    readonly proc: Proc,
    readonly adminUrl: string,
    readonly configPath: string | undefined,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** `yaml` may use ${ADMIN} for the admin endpoint, which this picks. */
  static async start(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Collector> {
    const adminPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'aibom-collector-'));
    const configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, yaml.replaceAll('${ADMIN}', `127.0.0.1:${adminPort}`));
    return Collector.startWith(configPath, `http://127.0.0.1:${adminPort}`, env);
  }

  /**
   * The embedded default (`run` with no --config), as a user runs it; its endpoints and data directory are
   * moved to free ports and a temporary directory with the AIBOM_* variables it reads.
   */
  static async startDefault(env: NodeJS.ProcessEnv = {}): Promise<{ collector: Collector; grpcPort: number; httpPort: number; dataDir: string }> {
    const [grpcPort, httpPort, adminPort] = await freePorts(3);
    const dataDir = mkdtempSync(join(tmpdir(), 'aibom-default-'));
    const collector = await Collector.startWith(undefined, `http://127.0.0.1:${adminPort}`, {
      AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpcPort}`,
      AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
      AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${adminPort}`,
      AIBOM_DATA_DIR: dataDir,
      ...env,
    });
    return { collector, grpcPort: grpcPort!, httpPort: httpPort!, dataDir };
  }

  /** `configPath` undefined: `run` with no --config, the embedded default. */
  static async startWith(configPath: string | undefined, adminUrl: string, env: NodeJS.ProcessEnv = {}): Promise<Collector> {
    const proc = new Proc(collectorLauncher(), ['run', ...(configPath ? ['--config', configPath] : [])], { env: { ...process.env, ...env } });
    const c = new Collector(proc, adminUrl, configPath, env);
    try {
      await waitFor('collector readiness', async () => {
        if (!proc.running) throw new Error(`collector exited with ${proc.child.exitCode}`);
        const res = await fetch(`${adminUrl}/readyz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      }, 30_000, 100);
    } catch (err) {
      // Not ready: stop it (and so its sensor) rather than leave it running behind the failed test,
      // and show its log as it was when it failed, not when it started.
      await proc.stop();
      throw new Error(`${(err as Error).message}\n${proc.tail()}`);
    }
    return c;
  }

  /** Restarts the same config (same ports and storage paths). */
  async restart(): Promise<Collector> {
    await this.stop();
    return Collector.startWith(this.configPath, this.adminUrl, this.env);
  }

  async stop(): Promise<number | null> {
    return this.proc.stop();
  }

  async metricsText(): Promise<string> {
    return (await fetch(`${this.adminUrl}/metrics`)).text();
  }

  /** Sum of a metric's samples whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await this.metricsText(), name, labels);
  }
}

export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
