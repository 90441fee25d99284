import { normalizeText } from './content-index.js';

/**
 * Instruction-shaped text in content the agent read: words addressed to the assistant, telling it to
 * ignore its instructions, call tools, or keep something from the user. A weak signal (documentation
 * and security articles say such things too), so it is its own rule at low severity and never an alert
 * alone; next to a `tool-argument-from-untrusted-content` deviation from the same span it explains it.
 */

interface Pattern {
  /** Short name, reported: which family of phrasing matched. */
  id: string;
  re: RegExp;
  /** Strong: says it alone (an override of the instructions). Weak ones need a second family. */
  strong: boolean;
}

const PATTERNS: readonly Pattern[] = [
  { id: 'override-instructions', re: /\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|preceding|system|original)\s+(?:instructions|prompts?|rules|directions|guidelines)/, strong: true },
  { id: 'new-instructions', re: /\b(?:new|updated|real|actual)\s+instructions\s*:|\byour\s+(?:new|real)\s+(?:task|instructions|goal)\s+(?:is|are)\b/, strong: true },
  { id: 'addressed-to-assistant', re: /\b(?:note|notice|message|attention|instructions?)\s+(?:for|to)\s+(?:the\s+|all\s+)?(?:ai|llm|assistants?|agents?|language\s+models?|chatbots?)\b|\b(?:dear|hey)\s+(?:ai|assistant|agent)\b|\bas\s+an\s+ai\s+(?:assistant|agent|model)\b/, strong: false },
  { id: 'hide-from-user', re: /\b(?:do\s+not|don\s?t|never)\s+(?:tell|mention|inform|reveal|disclose|show)\b[^.]{0,40}\b(?:the\s+)?(?:user|customer|human)\b|\bwithout\s+(?:telling|informing|notifying)\s+(?:the\s+)?(?:user|customer)\b/, strong: false },
  { id: 'tool-directive', re: /\b(?:you\s+must|you\s+should|you\s+need\s+to|immediately|now)\s+(?:call|use|invoke|run|execute|send|post|forward|email|transfer|read|search|upload|fetch|open)\b/, strong: false },
  { id: 'system-impersonation', re: /\b(?:system|admin|administrator|developer)\s+(?:notice|override|message|prompt|mode)\b|<\/?\s*(?:system|im_start|instructions?)\s*>/, strong: false },
];

/** Longest text scanned per piece of content (the patterns are linear; this bounds the cost). */
export const MAX_SCAN_CHARS = 256 * 1024;

export interface InstructionMatch {
  /** Pattern families that matched, in the table's order. */
  families: string[];
  /** The first matched phrase (normalised, short): what the deviation shows. */
  excerpt: string;
}

/** Instruction-shaped phrasing in a text, or undefined: one strong family, or two weak ones. */
export function findInstructions(text: string): InstructionMatch | undefined {
  return findInstructionsNormalized(normalizeText(text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text));
}

/** `findInstructions` of a text of at most MAX_SCAN_CHARS characters already normalised (`normalizeText`). */
export function findInstructionsNormalized(t: string): InstructionMatch | undefined {
  const families: string[] = [];
  let excerpt = '';
  let strong = false;
  for (const p of PATTERNS) {
    const m = p.re.exec(t);
    if (!m) continue;
    families.push(p.id);
    strong ||= p.strong;
    if (!excerpt || p.strong) excerpt = t.slice(m.index, Math.min(t.length, m.index + 120));
  }
  return strong || families.length >= 2 ? { families, excerpt } : undefined;
}
