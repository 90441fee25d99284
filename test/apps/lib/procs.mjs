// Helpers to start the apps from tests: spawn a process and wait for its `LISTENING <port>...` line.
import { spawn } from 'node:child_process';

// Returns {child, ports:number[], stop()}; rejects if the process exits or times out first.
export function startListening(cmd, args, { env = process.env, cwd, timeoutMs = 15000, stderr = 'inherit' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', stderr] });
    let buf = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')}: no LISTENING line in ${timeoutMs}ms`)); }, timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      const m = /^LISTENING ([\d ]+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        const stop = () => new Promise((r) => { if (child.exitCode != null || child.signalCode != null) return r(); child.once('exit', () => r()); child.kill('SIGTERM'); });
        resolve({ child, ports: m[1].trim().split(/\s+/).map(Number), stop });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}) before LISTENING; output: ${buf}`)); });
  });
}

// Run a command to completion; resolves {code, stdout, stderr}.
export function run(cmd, args, { env = process.env, cwd, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? signal, stdout, stderr }); });
  });
}
