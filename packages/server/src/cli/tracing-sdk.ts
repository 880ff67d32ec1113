/**
 * The CLI's OpenTelemetry SDK: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set, a Node tracer provider that exports spans over OTLP/HTTP in batches is registered globally (with
 * W3C propagation and an AsyncLocalStorage context). The SDK packages are loaded by dynamic import, here
 * only: the library never loads them, and its users register an SDK of their own (docs/operations.md,
 * "Tracing"). The exporter reads the other `OTEL_EXPORTER_OTLP_*` variables (headers, timeout) itself.
 */
import type { Logger } from '../util/logger.js';
import { EXIT_USAGE, exitWithMessage } from './exit.js';

/** A registered SDK: `shutdown()` exports the spans still batched, then stops. */
export interface TracingSdk {
  readonly endpoint: string;
  shutdown(): Promise<void>;
}

/** The OTLP endpoint the environment names, or undefined when tracing is off. */
export function otlpEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const value = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function endpointVariable(env: NodeJS.ProcessEnv): string {
  return env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] === undefined
    ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
}

/**
 * Register the SDK when the environment asks for it; null when it does not. Exits (usage error) when the
 * packages are missing: they are optional dependencies, gone after `npm install --omit=optional`.
 */
export async function startTracingSdk(
  env: NodeJS.ProcessEnv,
  version: string,
  logger: Logger,
): Promise<TracingSdk | null> {
  const endpoint = otlpEndpoint(env);
  if (endpoint === undefined) return null;
  let modules;
  try {
    modules = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  } catch (error) {
    exitWithMessage(
      EXIT_USAGE,
      `${endpointVariable(env)} is set but the OpenTelemetry SDK cannot be loaded (${String(error)}): install ` +
        '@opentelemetry/sdk-trace-node, @opentelemetry/exporter-trace-otlp-http and @opentelemetry/resources ' +
        '(optional dependencies of @switchboard/server), or unset it',
    );
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = modules;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) override these defaults.
  const resource = resources
    .resourceFromAttributes({ 'service.name': 'switchboard', 'service.version': version })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  logger.info({ endpoint }, 'tracing: exporting spans over OTLP');
  return { endpoint, shutdown: () => provider.shutdown() };
}
