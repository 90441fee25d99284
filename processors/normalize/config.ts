import type { Section } from '../../pipeline/config/section.js';

/**
 * `normalize` has no settings: it always adds the `aibom.*` attributes (they are what the backend
 * shows), and later processors get the same view from `canonicalView` without a switch. The section
 * may be empty or absent; any key in it is an error.
 */
export type NormalizeConfig = Record<string, never>;

export function createDefaultConfig(): NormalizeConfig {
  return {};
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(_section: Section): NormalizeConfig {
  return createDefaultConfig();
}
