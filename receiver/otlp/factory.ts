import type { ReceiverFactory } from '../../pipeline/component.js';
import { createDefaultConfig, readConfig, type OtlpReceiverConfig } from './config.js';
import { OtlpReceiver } from './otlp-receiver.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  type: 'otlp',
  kind: 'receiver',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
};
