#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/section.js';
import { parseServiceConfig, type ServiceConfig } from '../config/service-config.js';
import { Service } from '../service/service.js';
import { createLogger } from '../telemetry/logger.js';
import { aibomCommand } from './aibom-command.js';
import { reportCommand } from './report-command.js';
import { findFactory } from './components.js';
import { defaultConfigPath, packageVersion } from '../package-root.js';

const HELP = `aibom-collector: OpenTelemetry pipeline stage that turns what AI agents do at runtime into an AI-BOM

Usage:
  aibom-collector run [--config FILE]       run the pipeline (no --config: the embedded default)
  aibom-collector validate [--config FILE]  check a config; lists every error, exit 1 if any
  aibom-collector aibom diff --declared FILE [--observed FILE|URL] [--format json]
                                            declared AI-BOM (CycloneDX 1.4-1.7 from cdxgen, Snyk,
                                            k8s-aibom, or our YAML) vs what ran; exit 0 no finding,
                                            1 findings, 2 error
  aibom-collector aibom show [--url URL|FILE]
                                            the runtime AI-BOM as a tree
  aibom-collector report [--from TIME] [--to TIME] [--format html|md] [--out FILE]
                         [--url ADMIN_URL | --data-dir DIR] [--trace-url TEMPLATE]
                                            evidence report for a period (default the last 24h):
                                            inventory, findings, baselines, deviations with their
                                            chains and trace links, coverage. TIME: ISO 8601, now,
                                            30m, 24h, 7d. TEMPLATE: http://jaeger:16686/trace/{traceId}
  aibom-collector --version
  aibom-collector --help

Config is collector-shaped YAML (receivers, processors, exporters, service.pipelines) with
\${env:VAR} substitution. The embedded default is ${'`otel-config/default.yaml`'}.
The aibom commands read the running collector's GET /v1/aibom by default
(http://\${AIBOM_ADMIN_ENDPOINT:-127.0.0.1:8888}/v1/aibom).
`;

/** Exit codes: 0 ok, 1 invalid config, 2 usage, 3 failed to start, 4 fatal error while running. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        declared: { type: 'string' },
        observed: { type: 'string' },
        format: { type: 'string' },
        url: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string', short: 'o' },
        'data-dir': { type: 'string' },
        'trace-url': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`aibom-collector ${packageVersion()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return values.help || command === 'help' ? 0 : 2;
  }
  if (command === 'aibom') {
    return aibomCommand(positionals[1], values, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (command === 'report') {
    return reportCommand(values, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (command !== 'run' && command !== 'validate') {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const file = values.config ?? defaultConfigPath();
  let config: ServiceConfig;
  try {
    config = parseServiceConfig(readFileSync(file, 'utf8'), findFactory);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.message : `cannot read config: ${(err as Error).message}`;
    process.stderr.write(`${file}: ${detail}\n`);
    return 1;
  }
  if (command === 'validate') {
    process.stdout.write(`${file}: configuration is valid (${config.pipelines.map((p) => p.id).join(', ')})\n`);
    return 0;
  }
  return run(config, file);
}

async function run(config: ServiceConfig, file: string): Promise<number> {
  const logger = createLogger(config.logLevel);
  logger.info({ config: file, version: packageVersion() }, 'starting aibom-collector');
  const service = new Service(config, logger, { version: packageVersion() });
  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    logger.flush();
    return 3;
  }
  const signalled = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  const outcome = await Promise.race([signalled.then((sig) => ({ sig })), service.whenFatal().then((err) => ({ err }))]);
  if ('sig' in outcome) logger.info({ signal: outcome.sig }, 'shutting down: flushing queues');
  await service.shutdown();
  logger.flush();
  return 'err' in outcome ? 4 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`aibom-collector: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
