import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A test/apps server (fake LLM, services) started with node in `cwd`, once it prints `LISTENING <ports>`. */
export async function startListening(cwd: string, args: string[]): Promise<{ proc: ChildProcess; ports: number[] }> {
  const proc = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: proc.stdout! })) {
    const m = /^LISTENING (.*)$/.exec(line);
    if (m) return { proc, ports: m[1]!.trim().split(/\s+/).map(Number) };
  }
  throw new Error(`${args.join(' ')} ended before LISTENING`);
}

type Listening = { ports: number[] };

/**
 * The environment of the JS reference agent (test/apps/agent-js) running the `attack` scenario `runs` times
 * against the fake LLM and the services, exporting no telemetry (the benches measure the agent, not its SDK).
 */
export function attackAgentEnv(llm: Listening, services: Listening, runs: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FAKE_LLM_URL: `http://127.0.0.1:${llm.ports[0]}/v1`,
    KB_URL: `http://127.0.0.1:${services.ports[0]}`,
    TICKET_URL: `http://127.0.0.1:${services.ports[1]}`,
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    AGENT_RUNS: JSON.stringify(Array.from({ length: runs }, () => ({ scenario: 'attack', prompt: 'I need to file a warranty claim' }))),
  };
}
