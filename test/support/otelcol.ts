import { existsSync, readFileSync } from 'node:fs';
import { sumMetric } from './collector.js';
import { flattenSpans, type JaegerSpan, type JaegerTrace } from './jaeger.js';
import { completeLines } from './otlp-json.js';
import { Proc, waitFor } from './process.js';
import { requireTool } from './tools.js';

export const otelcolBin = () => requireTool('OTELCOL_BIN', '.tools/bin/otelcol');

/**
 * A real OpenTelemetry Collector (built by .ci/install-tools.sh from .ci/otelcol-builder.yaml)
 * running config files as a user runs them: `otelcol --config a.yaml --config b.yaml` merges them.
 * The files choose their ports through `${env:...}`; `metricsPort` is where the config serves the
 * collector's own Prometheus metrics.
 */
export class Otelcol {
  private constructor(
    readonly proc: Proc,
    readonly metricsPort: number,
  ) {}

  static async start(bin: string, configs: string[], env: NodeJS.ProcessEnv, metricsPort: number): Promise<Otelcol> {
    const proc = new Proc(bin, configs.flatMap((c) => ['--config', c]), { env: { ...process.env, ...env } });
    await waitFor(`otelcol to start\n${proc.tail()}`, () => {
      if (!proc.running) throw new Error(`otelcol exited with ${proc.child.exitCode}\n${proc.tail()}`);
      return proc.stderr.includes('Everything is ready') ? true : undefined;
    }, 30_000, 100);
    return new Otelcol(proc, metricsPort);
  }

  async stop(): Promise<number | null> {
    return this.proc.stop();
  }

  /** Sum of one of the collector's own metrics (`otelcol_exporter_sent_spans_total`...). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    return sumMetric(text, name, labels);
  }
}

/** The spans of an OTLP JSON-lines file (the contrib file exporter's output). */
export function spansOfJsonLines(path: string): JaegerSpan[] {
  if (!existsSync(path)) return [];
  return completeLines(readFileSync(path, 'utf8')).flatMap((l) => flattenSpans(JSON.parse(l) as JaegerTrace));
}
