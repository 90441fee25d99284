export { otlpReceiverFactory } from './factory.js';
export { OtlpReceiver, SHUTDOWN_DEADLINE_MS } from './otlp-receiver.js';
export {
  createDefaultConfig,
  defaultGrpcConfig,
  defaultHttpConfig,
  readConfig,
  DEFAULT_GRPC_ENDPOINT,
  DEFAULT_HTTP_ENDPOINT,
  DEFAULT_LOGS_URL_PATH,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_RECV_MSG_SIZE_MIB,
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  DEFAULT_TRACES_URL_PATH,
} from './config.js';
export type { AuthConfig, GrpcConfig, HttpConfig, OtlpReceiverConfig, TlsConfig } from './config.js';
export { DEFAULT_RETRY_AFTER_MS } from './intake.js';
export type { RefuseReason, RejectReason, Transport } from './intake.js';
