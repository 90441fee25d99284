import { Proc, waitFor } from './process.js';

/** Starts an app that prints `LISTENING <port> [<port>...]` when ready; returns it and the ports. */
export async function startListening(command: string, args: string[], options: ConstructorParameters<typeof Proc>[2] = {}): Promise<{ proc: Proc; ports: number[] }> {
  const proc = new Proc(command, args, options);
  const ports = await waitFor(`${args[0] ?? command} to listen\n${proc.tail()}`, () => {
    if (!proc.running) throw new Error(`${command} ${args.join(' ')} exited\n${proc.tail()}`);
    const m = /LISTENING((?: \d+)+)/.exec(proc.stdout);
    return m ? m[1]!.trim().split(' ').map(Number) : undefined;
  }, 30_000, 50);
  return { proc, ports };
}
