export { normalizeProcessorFactory } from './factory.js';
export { NormalizeProcessor, OWN_KEYS } from './processor.js';
export { canonicalView, hostPort } from './canonical.js';
export type { CanonicalKind, CanonicalSpan, NormalizeSource } from './canonical.js';
export { normalizeProvider, providerFromModel, providerFromServer } from './provider.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { NormalizeConfig } from './config.js';
export { canonicalContent, hasContent, messagesIn } from './content.js';
export type { CanonicalContent, CanonicalMessage, MessageRole } from './content.js';
