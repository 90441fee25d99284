import type { ProfiledKind } from './profile.js';

/** One thing a component was seen doing, read from an agent span or a kernel span. */
export type Fact =
  | { type: 'executable'; value: string }
  | { type: 'file'; value: string }
  | { type: 'credential'; value: string }
  | { type: 'egress'; value: string; dns: boolean }
  | { type: 'tool'; value: string }
  | { type: 'mcp_tool'; value: string }
  | { type: 'model'; value: string }
  | { type: 'model_version'; value: string }
  | { type: 'arguments'; args: ReadonlyMap<string, unknown> }
  | { type: 'payload'; destination: string; bytes: number };

export interface ComponentOf {
  id: string;
  kind: ProfiledKind;
  name: string;
}

/** A fact, whose it is, and whether the kernel showed it (kernel facts need complete coverage). */
export interface Observation {
  component: ComponentOf;
  fact: Fact;
  kernel: boolean;
  /** The kernel said the process was not watched from its start (`aibom.monitor.partial_reason`). */
  partialReason?: string;
  /**
   * The agent whose trace showed a kernel fact owned by another component: it learns the fact too,
   * and a fact its profile knows is no deviation for the owner (which of an agent's components a
   * connection or open is placed under can vary from run to run: keep-alive connections, threads).
   */
  agent?: ComponentOf;
}
