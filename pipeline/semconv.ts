/**
 * Attribute and event names shared by the components that write and read kernel activity.
 * OpenTelemetry semantic-convention names where one exists; product-specific ones under `aibom.`.
 */

/** Instrumentation scope of the log records receiver/ebpf produces, one per kernel event. */
export const KERNEL_SCOPE = 'aibom.ebpf';
/** Instrumentation scope of records about the sensor itself (`aibom.sensor.gap`), not kernel events. */
export const SENSOR_SCOPE = 'aibom.sensor';
/** Instrumentation scope of the spans processors/correlate produces from kernel events. */
export const CORRELATE_SCOPE = 'aibom.correlate';

/**
 * Every attribute key, instrumentation scope name and log event name under `aibom.` is this product's
 * own: what the sensor saw, how it was correlated, what the collector concluded. Telemetry received over
 * OTLP is the sender's word and may not speak in these names (receiver/otlp renames them).
 */
export const RESERVED_PREFIX = 'aibom.';
/** What receiver/otlp puts in front of a reserved name it received: `aibom.kernel.kind` -> `untrusted.aibom.kernel.kind`. */
export const UNTRUSTED_PREFIX = 'untrusted.';

/** LogRecord.eventName of a kernel event: `aibom.kernel.<kind>`. */
export const KERNEL_EVENT_PREFIX = 'aibom.kernel.';
export const KERNEL_EVENT_KINDS = ['exec', 'exit', 'fork', 'open', 'connect', 'accept', 'dns', 'tls', 'http'] as const;
export type KernelEventKind = (typeof KERNEL_EVENT_KINDS)[number];

export const ATTR = {
  // OpenTelemetry semantic conventions
  serviceName: 'service.name',
  serviceInstanceId: 'service.instance.id',
  telemetrySdkLanguage: 'telemetry.sdk.language',
  hostName: 'host.name',
  hostId: 'host.id',
  processPid: 'process.pid',
  processParentPid: 'process.parent_pid',
  processExecutableName: 'process.executable.name',
  processExecutablePath: 'process.executable.path',
  processCommandArgs: 'process.command_args',
  processExitCode: 'process.exit.code',
  processUserId: 'process.user.id',
  threadId: 'thread.id',
  filePath: 'file.path',
  fileDirectory: 'file.directory',
  networkTransport: 'network.transport',
  networkType: 'network.type',
  networkPeerAddress: 'network.peer.address',
  networkPeerPort: 'network.peer.port',
  networkLocalAddress: 'network.local.address',
  networkLocalPort: 'network.local.port',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  dnsQuestionName: 'dns.question.name',
  httpRequestMethod: 'http.request.method',
  httpResponseStatusCode: 'http.response.status_code',
  httpRequestBodySize: 'http.request.body.size',
  urlPath: 'url.path',
  userAgent: 'user_agent.original',
  errorType: 'error.type',
  containerId: 'container.id',
  k8sPodUid: 'k8s.pod.uid',
  k8sPodName: 'k8s.pod.name',
  k8sNamespaceName: 'k8s.namespace.name',

  // aibom.* (no semantic convention exists)
  kernelSeq: 'aibom.kernel.seq',
  kernelRepeat: 'aibom.kernel.repeat',
  kernelTruncated: 'aibom.kernel.truncated',
  kernelCgroupId: 'aibom.kernel.cgroup_id',
  /** Coverage facts on every kernel record's resource (receiver/ebpf README): why and since when a process is watched. */
  monitorReason: 'aibom.monitor.reason',
  monitorCoverage: 'aibom.monitor.coverage',
  monitorPartialReason: 'aibom.monitor.partial_reason',
  monitorSince: 'aibom.monitor.since_unix_nano',
  monitorEnvMarker: 'aibom.monitor.env_marker',
  /** Reason `shadow`: the signature that started monitoring (`dns:api.openai.com`, `artifact:/m/x.gguf`). */
  monitorShadowMatch: 'aibom.monitor.shadow_match',
  /** A kernel record that matched a shadow-AI signature: provider_dns, inference_api, model_artifact, server_executable. */
  shadowSignature: 'aibom.shadow.signature',
  genAiRequestModel: 'gen_ai.request.model',
  processChildPid: 'aibom.process.child_pid',
  /** On correlate's process span: the process's exec happened here (the span stands for it), not before. */
  processExecUnderParent: 'aibom.process.exec_under_parent',
  processExitSignal: 'aibom.process.exit_signal',
  fileOpenFlags: 'aibom.file.open_flags',
  fileResult: 'aibom.file.result',
  /** Distinct files one span stands for when plumbing opens were folded (processors/correlate/fold.ts). */
  fileDistinctPaths: 'aibom.file.distinct_paths',
  /** The fold rule that grouped a span's opens, and the first of its paths (bounded). */
  foldRule: 'aibom.fold.rule',
  foldSamplePaths: 'aibom.fold.sample_paths',
  identityCredential: 'aibom.identity.credential',
  networkResult: 'aibom.network.result',
  networkInProgress: 'aibom.network.in_progress',
  dnsQtype: 'aibom.dns.qtype',
  tlsDirection: 'aibom.tls.direction',
  payloadSize: 'aibom.payload.size',
  payloadText: 'aibom.payload.text',
  /** W3C traceparent captured on the wire (HTTP header, or MCP params._meta). */
  wireTraceparent: 'aibom.wire.traceparent',
  wireTraceparentSource: 'aibom.wire.traceparent_source',
  /**
   * On spans processors/correlate makes: `otlp_connection` when the parent span's resource named no
   * `process.pid` and the process holding its OTLP connection stood in for it.
   */
  processPidSource: 'aibom.process.pid_source',
  /** Set by processors/correlate on every span it creates: which key placed it. */
  correlationKey: 'aibom.correlation.key',
  kernelKind: 'aibom.kernel.kind',
  kernelCount: 'aibom.kernel.count',
} as const;
