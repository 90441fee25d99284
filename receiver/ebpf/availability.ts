// What the sensor needs, checked before spawning it, and the sensor's exit codes (bpf/README.md) as the
// same precise sentences, so "why is there no kernel data" is always answered by one log line.

import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';

export const BTF_PATH = '/sys/kernel/btf/vmlinux';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capability mask of this process (CapEff in /proc/self/status), or undefined off Linux. */
export function effectiveCapabilities(statusText?: string): bigint | undefined {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'latin1');
    } catch {
      return undefined;
    }
  }
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(text);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** Undefined when privileged enough for the sensor, else the missing capabilities, named. */
export function missingPrivileges(capEff: bigint | undefined, uid: number | undefined): string | undefined {
  if (capEff === undefined) return uid === 0 ? undefined : 'cannot read CapEff from /proc/self/status';
  const has = (c: bigint): boolean => ((capEff >> c) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN)) return undefined;
  const missing = [has(CAP_BPF) ? '' : 'CAP_BPF', has(CAP_PERFMON) ? '' : 'CAP_PERFMON'].filter(Boolean);
  if (missing.length === 0) return undefined;
  return `not root and missing ${missing.join('+')} (CapEff=${capEff.toString(16).padStart(16, '0')})`;
}

export interface Preflight {
  /** A reason the sensor cannot run at all; start fails (required) or runs without it. */
  problem?: string;
  /**
   * The collector lacks the capabilities itself. The sensor may still have them as file capabilities
   * (`setcap cap_bpf,cap_perfmon+ep`), so this is not a reason to skip the spawn; if the sensor then exits
   * with code 3, this sentence is the message.
   */
  privileges?: string;
}

/** The checks before spawning: platform, sensor binary, BTF, capabilities. */
export function preflight(sensorPath: string, opts: { platform?: string; btfPath?: string; capEff?: bigint; uid?: number } = {}): Preflight {
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') return { problem: `eBPF sensor disabled: eBPF needs Linux, this is ${platform}` };
  try {
    const st = statSync(sensorPath);
    if (!st.isFile()) return { problem: `eBPF sensor disabled: ${sensorPath} is not a file (sensor.path)` };
    accessSync(sensorPath, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { problem: `eBPF sensor disabled: sensor binary ${sensorPath} not found (build it with make -C bpf, or set sensor.path)` };
    return { problem: `eBPF sensor disabled: sensor binary ${sensorPath} is not executable (${code ?? (err as Error).message})` };
  }
  const btf = opts.btfPath ?? BTF_PATH;
  if (!existsSync(btf)) return { problem: `eBPF sensor disabled: ${btf} not found (kernel without BTF)` };
  const priv = missingPrivileges('capEff' in opts ? opts.capEff : effectiveCapabilities(), 'uid' in opts ? opts.uid : process.getuid?.());
  return priv ? { privileges: priv } : {};
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** The last non-empty stderr line, for context. */
function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1]! : '';
}

/** The sensor's exit (code or signal) as one sentence naming what is wrong. */
export function sensorExitReason(code: number | null, signal: string | null, stderr: string, privileges?: string): string {
  const detail = lastLine(stderr);
  const tail = detail ? `: ${detail}` : '';
  switch (code) {
    case 0:
      return 'the sensor exited';
    case 1:
      return `the sensor rejected its arguments (exit 1)${tail}`;
    case 2:
      return `${BTF_PATH} not found (kernel without BTF)`;
    case 3:
      return `missing privileges: the sensor needs root or CAP_BPF+CAP_PERFMON${privileges ? ` (collector: ${privileges}; give the sensor file capabilities or run it with mode: socket)` : ''}${tail}`;
    case 4:
      return `tracefs is not mounted at /sys/kernel/tracing and could not be mounted (exit 4)${tail}`;
    case 5:
      return `loading the BPF programs failed (exit 5; set verbose: true for the verifier log)${tail}`;
    case 6:
      return `attaching the BPF programs failed (exit 6)${tail}`;
    case 7:
      return `the sensor could not write its output (exit 7)${tail}`;
    case null:
      return `the sensor was killed by ${signal ?? 'a signal'}${tail}`;
    default:
      return `the sensor exited with code ${code}${tail}`;
  }
}

export function signalName(sig: number): string {
  return SIGNALS[sig] ?? `signal ${sig}`;
}
