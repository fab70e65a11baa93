// A trip-planning agent on the Vercel AI SDK (generateText + tools, multi-step), with OpenTelemetry
// exported over OTLP/HTTP to a local receiver. The model is the SDK's own MockLanguageModelV4 from
// 'ai/test', answering from a script, so nothing leaves the machine.
//
//   node agent.mjs SCENARIO PROTOCOL ENDPOINT
//     SCENARIO: healthy | content_off | step_limit | legacy | content_off_fanout
//       (legacy = the healthy run through LegacyOpenTelemetry: the AI SDK 4-6 `ai.*` span format;
//        content_off_fanout = content off, one tool called 3 times with 3 different arguments, healthy)
//     PROTOCOL: proto (exporter-trace-otlp-proto) | json (exporter-trace-otlp-http)
//     ENDPOINT: e.g. http://127.0.0.1:24318  (/v1/traces is appended)
//     TAG: optional suffix for the session id (and trace id), e.g. -live-json
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { LegacyOpenTelemetry, OpenTelemetry } from '@ai-sdk/otel';
import { generateText, isStepCount, registerTelemetry, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

const [scenario, protocol, endpoint, tag = ''] = process.argv.slice(2);
// TAG (optional 4th argument, e.g. "-live-proto") makes a distinct session and trace id, so that the same
// scenario can be sent twice to one collector without being deduplicated.
const SESSION = `session-js-${scenario}${tag}`;

// Deterministic ids, so that reruns give the same trace/span ids (timestamps stay real).
let spanCounter = 0;
const scenarioSeed = { healthy: 1, content_off: 2, step_limit: 3, legacy: 4, content_off_fanout: 5 }[scenario] ?? 9;
const idGenerator = {
  generateTraceId: () =>
    `${scenarioSeed.toString(16).padStart(2, '0')}${Buffer.from(tag).toString('hex')}`.slice(0, 30).padEnd(31, '0') + '1',
  generateSpanId: () => `${scenarioSeed.toString(16).padStart(2, '0')}${(++spanCounter).toString(16).padStart(14, '0')}`,
};

const Exporter = protocol === 'json' ? JsonExporter : ProtoExporter;
const sdk = new NodeSDK({
  serviceName: `js_${scenario}`,
  traceExporter: new Exporter({ url: `${endpoint}/v1/traces` }),
  idGenerator,
  autoDetectResources: false,
});
sdk.start();
if (scenario === 'legacy') {
  // AI SDK 4-6 span format; its only session carrier is the runtime context (ai.settings.context.sessionId).
  registerTelemetry(new LegacyOpenTelemetry());
} else {
  // Default OpenTelemetry integration; enrichSpan only adds the app's session id (semconv key).
  registerTelemetry(new OpenTelemetry({ enrichSpan: () => ({ 'gen_ai.conversation.id': SESSION }) }));
}

function usage(input, output) {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}
const toolCall = (id, name, args) => ({ type: 'tool-call', toolCallId: id, toolName: name, input: JSON.stringify(args) });
const callTurn = (id, name, args, input, output) => ({
  content: [toolCall(id, name, args)],
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage: usage(input, output),
  warnings: [],
  response: { id: `resp_${id}`, modelId: 'mock-gpt-4o', timestamp: new Date(0) },
});
const textTurn = (text, input, output) => ({
  content: [{ type: 'text', text }],
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: usage(input, output),
  warnings: [],
  response: { id: 'resp_final', modelId: 'mock-gpt-4o', timestamp: new Date(0) },
});

let weatherCalls = 0;
const tools = {
  get_weather: tool({
    description: 'Current weather for a city.',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      weatherCalls += 1;
      if (weatherCalls === 1) throw new Error('WeatherServiceTimeout: upstream weather API timed out after 5s');
      return { city, temperature_c: 18, conditions: 'sunny' };
    },
  }),
  convert_currency: tool({
    description: 'Convert an amount between currencies.',
    inputSchema: z.object({ amount: z.number(), from: z.string(), to: z.string() }),
    execute: async ({ amount, from, to }) => ({ amount, from, to, converted: 108.5 }),
  }),
  search_flights: tool({
    description: 'Search flights between two airports.',
    inputSchema: z.object({ origin: z.string(), destination: z.string(), date: z.string() }),
    execute: async () => ({ flights: [], note: 'no flights found, try again later' }),
  }),
};

const tripScript = [
  callTurn('call_1', 'get_weather', { city: 'Paris' }, 120, 18),
  callTurn('call_2', 'get_weather', { city: 'Paris' }, 190, 18),
  callTurn('call_3', 'convert_currency', { amount: 100, from: 'EUR', to: 'USD' }, 260, 24),
  textTurn('Paris is sunny at 18°C today, and 100 EUR is about 108.50 USD. Enjoy your trip!', 330, 30),
];
const fanoutScript = [
  callTurn('call_1', 'convert_currency', { amount: 100, from: 'EUR', to: 'USD' }, 120, 18),
  callTurn('call_2', 'convert_currency', { amount: 100, from: 'EUR', to: 'GBP' }, 190, 18),
  callTurn('call_3', 'convert_currency', { amount: 100, from: 'EUR', to: 'JPY' }, 260, 24),
  textTurn('100 EUR is about 108.50 USD, 86 GBP and 16,000 JPY.', 330, 30),
];
const loopScript = [1, 2, 3, 4, 5, 6].map((n) =>
  callTurn(`call_${n}`, 'search_flights', { origin: 'CDG', destination: 'JFK', date: '2026-12-24' }, 100 + 60 * n, 20),
);

const base = {
  system: 'You are a travel assistant. Use the tools to answer.',
  tools,
  runtimeContext: { sessionId: SESSION },
};

let result;
if (scenario === 'step_limit') {
  result = await generateText({
    ...base,
    model: new MockLanguageModelV4({ modelId: 'mock-gpt-4o', doGenerate: loopScript }),
    prompt: 'Find me a flight from Paris CDG to New York JFK on 2026-12-24.',
    stopWhen: isStepCount(4),
    telemetry: { functionId: 'flight_finder' },
  });
} else if (scenario === 'content_off_fanout') {
  result = await generateText({
    ...base,
    model: new MockLanguageModelV4({ modelId: 'mock-gpt-4o', doGenerate: fanoutScript }),
    prompt: 'How much is 100 EUR in USD, GBP and JPY?',
    stopWhen: isStepCount(8),
    telemetry: { functionId: 'fx_agent', recordInputs: false, recordOutputs: false },
  });
} else {
  result = await generateText({
    ...base,
    model: new MockLanguageModelV4({ modelId: 'mock-gpt-4o', doGenerate: tripScript }),
    prompt: "What's the weather in Paris, and how much is 100 EUR in USD?",
    stopWhen: isStepCount(8),
    telemetry:
      scenario === 'content_off'
        ? { functionId: 'trip_planner', recordInputs: false, recordOutputs: false }
        : { functionId: 'trip_planner', includeRuntimeContext: { sessionId: true } },
  });
}
console.error(
  JSON.stringify({
    scenario,
    protocol,
    steps: result.steps.length,
    finishReason: result.finishReason,
    text: result.text,
    usage: result.totalUsage,
    toolErrors: result.steps.flatMap((s) => s.content.filter((c) => c.type === 'tool-error').map((c) => c.toolName)),
  }),
);
await sdk.shutdown();
