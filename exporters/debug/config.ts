import type { Section } from '../../pipeline/config/section.js';

export type Verbosity = 'basic' | 'normal' | 'detailed';

export interface DebugConfig {
  verbosity: Verbosity;
}

export const DEFAULT_VERBOSITY: Verbosity = 'basic';

export function createDefaultConfig(): DebugConfig {
  return { verbosity: DEFAULT_VERBOSITY };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): DebugConfig {
  return { verbosity: section.oneOf('verbosity', ['basic', 'normal', 'detailed'] as const, DEFAULT_VERBOSITY) };
}
