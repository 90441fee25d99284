import { readFileSync } from 'node:fs';
import { redactArgs } from '../../pipeline/redact.js';
import type { WorkloadHint } from '../../pipeline/workloads.js';

/**
 * Whether the process behind `hint.pid` here is the one the telemetry described. A pid from an SDK
 * may come from another PID namespace (a container) or have been reused; watching the wrong process
 * would be worse than watching none. Undefined = it is that process; otherwise why not.
 */
export function mismatch(hint: WorkloadHint, proc = '/proc'): string | undefined {
  let cmdline: string[];
  let comm: string;
  try {
    cmdline = readFileSync(`${proc}/${hint.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    comm = readFileSync(`${proc}/${hint.pid}/comm`, 'utf8').trim();
  } catch {
    return `no process ${hint.pid} here`;
  }
  if (hint.commandArgs && hint.commandArgs.length > 0) {
    // Compared (and shown) redacted: telemetry may arrive redacted already, and the message is logged.
    const told = redactArgs(hint.commandArgs);
    const here = redactArgs(cmdline);
    const same = told.length === here.length && told.every((a, i) => a === here[i] || (i === 0 && basename(a) === basename(here[0] ?? '')));
    if (!same) return `command line differs (telemetry: ${JSON.stringify(told.slice(0, 3))}, here: ${JSON.stringify(here.slice(0, 3))})`;
  }
  if (hint.executableName) {
    const name = hint.executableName;
    // comm is the first 15 bytes of the executable's base name (or a name the process gave itself).
    if (comm !== name.slice(0, 15) && basename(cmdline[0] ?? '') !== name) return `executable differs (telemetry: ${name}, here: ${comm})`;
  }
  return undefined;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
