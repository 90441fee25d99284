export { ebpfReceiverFactory } from './factory.js';
export { EbpfReceiver } from './ebpf-receiver.js';
export {
  createDefaultConfig,
  defaultSensorPath,
  readConfig,
  sensorArgs,
  DEFAULT_BATCH_MAX_EVENTS,
  DEFAULT_BATCH_TIMEOUT_MS,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_MAX_PENDING_EVENTS,
  DEFAULT_MODE,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_PROCESS_CACHE_SIZE,
  DEFAULT_RESTART_INITIAL_INTERVAL_MS,
  DEFAULT_RESTART_MAX_INTERVAL_MS,
  DEFAULT_RING_BUFFER_SIZE,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STATS_INTERVAL_MS,
} from './config.js';
export type { EbpfReceiverConfig } from './config.js';
export { GAP_ATTR, SENSOR_GAP_EVENT } from './convert.js';
export { preflight, sensorExitReason } from './availability.js';
export { SensorProcess, SensorExitError } from './sensor-process.js';
export { SpawnLink } from './spawn-link.js';
export { SocketLink } from './socket-link.js';
export type { SensorLink, SensorLinkHandlers, SensorLoss } from './sensor-link.js';
export { Supervisor } from './supervisor.js';
export { EventQueue } from './event-queue.js';
export { untrustedBinary } from './binary-trust.js';
export type { SensorExit } from './sensor-process.js';
export { createFrameDecoder, EVENT_KINDS } from './frame-decoder.js';
export type { EventKind, SensorEvent, SensorRecord, StatsRecord, StreamHeaderRecord } from './frame-decoder.js';
export { parseWire } from './wire-parse.js';
export type { WireInfo } from './wire-parse.js';
