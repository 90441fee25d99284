import type { ReceiverFactory } from '../../pipeline/component.js';
import { createDefaultConfig, readConfig, type EbpfReceiverConfig } from './config.js';
import { EbpfReceiver } from './ebpf-receiver.js';

export const ebpfReceiverFactory: ReceiverFactory<EbpfReceiverConfig> = {
  type: 'ebpf',
  kind: 'receiver',
  signals: ['logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new EbpfReceiver(settings, config, next),
};
