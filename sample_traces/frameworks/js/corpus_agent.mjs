// Evaluation-corpus sessions on the Vercel AI SDK 7 (generateText / ToolLoopAgent + tools), driven by corpus_js.py.
// The model is the SDK's own MockLanguageModelV4 (ai/test) answering from a per-scenario script; tools really
// execute (their backends are fakes). Telemetry: the SDK's default OpenTelemetry integration (@ai-sdk/otel),
// NodeSDK + exporter-trace-otlp-proto to a receiver on 127.0.0.1.
//
//   node corpus_agent.mjs '{"scenario": "...", "session": "js-c-...", "seed": 7, "content": true, "endpoint": "http://127.0.0.1:PORT"}'
//
// Deterministic: seeded RNG (mulberry32), seeded trace/span ids, and a simulated clock (Date.now and
// performance.now are replaced, so timestamps and durations are reproducible and a run can "last" minutes).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { trace, SpanStatusCode } from '@opentelemetry/api';
import { OpenTelemetry } from '@ai-sdk/otel';
import { APICallError, generateText, isStepCount, registerTelemetry, tool, ToolLoopAgent } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

const cfg = JSON.parse(process.argv[2]);
const { scenario, session, seed, content, endpoint } = cfg;

// ---------- simulated clock ----------
let fakeMs = 0;
const BASE_MS = Date.UTC(2026, 10, 2, 8, 0, 0) + seed * 37 * 60_000;
performance.now = () => (fakeMs += 0.25);
Date.now = () => Math.floor(BASE_MS + performance.now());
const advance = (seconds) => {
  fakeMs += seconds * 1000;
};

// ---------- seeded RNG ----------
let rngState = (seed * 2654435761) >>> 0;
const rand = () => {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(rand() * list.length)];
const between = (lo, hi) => lo + rand() * (hi - lo);

// ---------- deterministic ids ----------
let spanCounter = 0;
let traceCounter = 0;
const seedHex = seed.toString(16).padStart(4, '0');
const idGenerator = {
  generateTraceId: () => `c0${seedHex}`.padEnd(24, '0') + (++traceCounter).toString(16).padStart(8, '0'),
  generateSpanId: () => `${seedHex}${(++spanCounter).toString(16).padStart(12, '0')}`,
};

// ---------- app names (seeded) ----------
const SERVICES = {
  travel: ['trip-desk-api', 'wanderly-backend', 'travel-assist-svc'],
  billing: ['billing-assistant', 'invoicing-copilot', 'payments-helpdesk'],
  code: ['repo-fixer', 'ci-repair-bot', 'devtools-agent'],
  research: ['research-copilot', 'insight-engine', 'lit-review-svc'],
  support: ['support-desk-api', 'helpcenter-agent', 'care-bot'],
  data: ['analytics-copilot', 'metrics-agent', 'bi-assistant'],
};
const MODELS = ['gpt-4o-2024-08-06', 'gpt-4.1-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const domain = cfg.domain;
const serviceName = pick(SERVICES[domain]);
const modelId = pick(MODELS);

const sdk = new NodeSDK({
  serviceName,
  traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
  idGenerator,
  autoDetectResources: false,
});
sdk.start();
const appTracer = trace.getTracer(serviceName, '1.4.2');

// Extra request context some apps attach to the agent span (used by the wide-attributes scenario).
let operationExtras = {};
registerTelemetry(
  new OpenTelemetry({
    enrichSpan: ({ spanType }) => ({
      'gen_ai.conversation.id': session,
      ...(spanType === 'operation' ? operationExtras : {}),
    }),
  }),
);

// ---------- scripted model ----------
function usage(input, output) {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}
let respCounter = 0;
const promptTokens = (prompt) => Math.ceil(JSON.stringify(prompt).length / 4);
// A script entry: {calls: [[name, args], ...]} | {text} | {error: Error} | (options) => entry
function scripted(script, { tokenBias = 0 } = {}) {
  let turn = 0;
  return new MockLanguageModelV4({
    provider: 'openai.chat',
    modelId,
    doGenerate: async (options) => {
      let entry = script[Math.min(turn, script.length - 1)];
      turn += 1;
      if (typeof entry === 'function') entry = entry(options);
      advance(between(0.7, 3.5));
      if (entry.error) throw entry.error;
      const inputTokens = promptTokens(options.prompt) + tokenBias + (entry.extraInput ?? 0);
      respCounter += 1;
      const response = { id: `chatcmpl-${seedHex}${respCounter}`, modelId, timestamp: new Date(Date.now()) };
      if (entry.calls) {
        return {
          content: entry.calls.map(([name, args], i) => ({
            type: 'tool-call',
            toolCallId: `call_${seedHex}_${respCounter}_${i}`,
            toolName: name,
            input: JSON.stringify(args),
          })),
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(inputTokens, 18 + 9 * entry.calls.length),
          warnings: [],
          response,
        };
      }
      return {
        content: [{ type: 'text', text: entry.text }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usage(inputTokens, Math.ceil(entry.text.length / 4)),
        warnings: [],
        response,
      };
    },
  });
}
const call = (name, args) => ({ calls: [[name, args]] });
const say = (text) => ({ text });

// A tool whose backend is a local fake; `latency` seconds pass on the simulated clock.
function mkTool(description, shape, execute, latency = [0.2, 1.5]) {
  return tool({
    description,
    inputSchema: z.object(shape),
    execute: async (args, options) => {
      advance(between(...latency));
      return execute(args, options);
    },
  });
}
const telemetry = (functionId) => ({ functionId, recordInputs: content, recordOutputs: content });

// Wraps a turn in the app's own request span (harness noise around the framework's spans).
async function handled(route, fn) {
  return appTracer.startActiveSpan(route, { attributes: { 'http.request.method': 'POST', 'http.route': route } }, async (span) => {
    try {
      const result = await fn();
      span.setAttribute('http.response.status_code', 200);
      return result;
    } catch (error) {
      span.setAttribute('http.response.status_code', 500);
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error.message) });
      return { error };
    } finally {
      span.end();
    }
  });
}

function contextLengthError(limit, got) {
  return new APICallError({
    message: `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${got} tokens. Please reduce the length of the messages.`,
    url: 'https://api.openai.com/v1/chat/completions',
    requestBodyValues: {},
    statusCode: 400,
    responseBody: '{"error":{"code":"context_length_exceeded","type":"invalid_request_error"}}',
    isRetryable: false,
  });
}
function serverError(status, message) {
  return new APICallError({
    message,
    url: 'https://api.openai.com/v1/chat/completions',
    requestBodyValues: {},
    statusCode: status,
    responseBody: `{"error":{"message":"${message}"}}`,
    isRetryable: true,
  });
}

// ---------- scenarios ----------
const S = {};

// R1: the same search re-worded each time, same stale results, until the app's step limit.
S.loop_reworded_search = async () => {
  const searchTool = pick(['web_search', 'search_web', 'internet_search']);
  const topic = pick(['solid-state battery cycle life in 2026', 'EU AI Act obligations for SMEs', 'CRISPR off-target rates in vivo']);
  const wordings = [
    topic,
    `latest data on ${topic}`,
    `${topic} new study`,
    `${topic} recent results 2026`,
    `"${topic}" report`,
    `${topic} peer reviewed findings`,
    `what is known about ${topic}`,
    `${topic} review article`,
  ];
  const stale = [
    { title: 'Overview (2019 archive)', url: 'https://example.org/archive/2019/overview', snippet: 'An older overview; no figures for 2026.' },
    { title: 'Forum thread: anyone have data?', url: 'https://forum.example.net/t/88412', snippet: 'Asking the same question, no answers.' },
  ];
  const agent = new ToolLoopAgent({
    model: scripted(wordings.map((q) => call(searchTool, { query: q }))),
    instructions: 'You are a research assistant. Find recent, sourced facts and answer with citations.',
    tools: { [searchTool]: mkTool('Search the web.', { query: z.string() }, () => ({ results: stale })) },
    stopWhen: isStepCount(7),
    telemetry: telemetry(pick(['research_assistant', 'deep_researcher', 'fact_finder'])),
  });
  const result = await agent.generate({ prompt: `Summarise what is new about ${topic}, with sources.` });
  return { steps: result.steps.length, text: result.text, finishReason: result.finishReason };
};

// R2: the same failure (same exception message) 4 times, with other tools in between; the run gives up.
S.loop_same_error_interleaved = async () => {
  const msg = 'PaymentGatewayError: card_declined (issuer response 05, do not honor)';
  const cust = `cus_${Math.floor(between(10000, 99999))}`;
  const inv = `INV-2026-${Math.floor(between(1000, 9999))}`;
  const tools = {
    lookup_customer: mkTool('Look up a customer.', { customer_id: z.string() }, ({ customer_id }) => ({ customer_id, name: 'Dana Ortiz', default_card: 'visa ****4242', status: 'active' })),
    get_invoice: mkTool('Get an invoice.', { invoice_id: z.string() }, ({ invoice_id }) => ({ invoice_id, amount_due: 129.0, currency: 'USD', status: 'open' })),
    list_payment_methods: mkTool('List saved payment methods.', { customer_id: z.string() }, () => ({ methods: ['visa ****4242'] })),
    charge_card: mkTool('Charge the saved card for an invoice.', { invoice_id: z.string(), amount: z.number() }, () => {
      throw new Error(msg);
    }),
  };
  const chargeArgs = { invoice_id: inv, amount: 129.0 };
  const result = await generateText({
    model: scripted([
      call('lookup_customer', { customer_id: cust }),
      call('get_invoice', { invoice_id: inv }),
      call('charge_card', chargeArgs),
      call('list_payment_methods', { customer_id: cust }),
      call('charge_card', chargeArgs),
      call('lookup_customer', { customer_id: cust }),
      call('charge_card', chargeArgs),
      call('get_invoice', { invoice_id: inv }),
      call('charge_card', chargeArgs),
      say('I tried several times but the payment could not be processed. Please try again later.'),
    ]),
    system: 'You are a billing assistant. Collect overdue invoices by charging the customer\'s saved card.',
    prompt: `Please settle invoice ${inv} for customer ${cust} using their card on file.`,
    tools,
    stopWhen: isStepCount(15),
    experimental_telemetry: telemetry(pick(['billing_agent', 'collections_assistant', 'invoice_bot'])),
  });
  return { steps: result.steps.length, text: result.text };
};

// R3: a pager whose cursor advances every call and never reports the end, until the step limit.
S.loop_pager_never_ends = async () => {
  const listTool = pick(['list_transactions', 'fetch_events_page', 'list_audit_records']);
  const cursors = Array.from({ length: 14 }, (_, i) => `cur_${(4096 + i * 100).toString(16)}`);
  const script = [call(listTool, { account: 'acct_eu_17', cursor: null })].concat(cursors.map((c) => call(listTool, { account: 'acct_eu_17', cursor: c })));
  let page = 0;
  const result = await generateText({
    model: scripted(script),
    system: 'You are a data analyst. Page through all records before computing totals.',
    prompt: 'Compute the total refunded amount for account acct_eu_17 in October.',
    tools: {
      [listTool]: mkTool('List records, 100 per page.', { account: z.string(), cursor: z.string().nullable() }, () => {
        page += 1;
        return { records: [{ id: `r${page}01`, amount: 12.5 }, { id: `r${page}02`, amount: 40 }], next_cursor: cursors[page - 1], has_more: true };
      }),
    },
    stopWhen: isStepCount(12),
    telemetry: telemetry(pick(['ledger_analyst', 'refund_auditor', 'finance_analyst'])),
  });
  return { steps: result.steps.length, text: result.text, finishReason: result.finishReason };
};

// R4: ToolLoopAgent with its default stop condition (20 steps): an A-B cycle with identical arguments.
S.loop_agent_default_limit = async () => {
  const tracking = `1Z${Math.floor(between(1e8, 9e8))}`;
  const script = [];
  for (let i = 0; i < 12; i++) {
    script.push(call('check_shipment', { tracking_number: tracking }));
    script.push(call('refresh_carrier_status', { tracking_number: tracking }));
  }
  const agent = new ToolLoopAgent({
    model: scripted(script),
    instructions: 'You are a customer support agent for an online shop. Tell customers where their parcel is.',
    tools: {
      check_shipment: mkTool('Shipment status.', { tracking_number: z.string() }, () => ({ status: 'in_transit', last_scan: '2026-10-29 Leipzig hub' })),
      refresh_carrier_status: mkTool('Ask the carrier to refresh tracking.', { tracking_number: z.string() }, () => ({ requested: true })),
    },
    telemetry: telemetry(pick(['support_agent', 'order_helper', 'shipping_assistant'])),
  });
  const result = await agent.generate({ prompt: `Where is my parcel ${tracking}? It has not moved for days.` });
  return { steps: result.steps.length, text: result.text, finishReason: result.finishReason };
};

// R5: a code agent: patch, run tests, same assertion failure, again and again, until the step limit.
S.loop_code_fix_same_failure = async () => {
  const failure = "AssertionError: test_parse_leap_day: expected '2024-02-29', got None (tests/test_dates.py:41)";
  const patches = ['return None if day > 28 else ...', 'use calendar.monthrange', 'special-case February', 'try/except ValueError', 'clamp day to month length'];
  const script = [call('read_file', { path: 'src/dates.py' }), call('run_tests', { target: 'tests/test_dates.py' })];
  for (const p of patches) {
    script.push(call('apply_patch', { path: 'src/dates.py', description: p }));
    script.push(call('run_tests', { target: 'tests/test_dates.py' }));
  }
  const result = await generateText({
    model: scripted(script),
    system: 'You are a coding agent. Fix the failing test with minimal changes; run the tests after each change.',
    prompt: 'CI is red on tests/test_dates.py::test_parse_leap_day. Fix parse_date in src/dates.py.',
    tools: {
      read_file: mkTool('Read a file.', { path: z.string() }, ({ path }) => ({ path, content: 'def parse_date(s):\n    y, m, d = map(int, s.split("-"))\n    if d > 28 and m == 2:\n        return None\n    return date(y, m, d).isoformat()\n' })),
      apply_patch: mkTool('Apply a patch.', { path: z.string(), description: z.string() }, ({ path }) => ({ path, applied: true, lines_changed: 3 })),
      run_tests: mkTool('Run pytest on a target.', { target: z.string() }, () => {
        throw new Error(failure);
      }, [4, 9]),
    },
    stopWhen: isStepCount(12),
    telemetry: telemetry(pick(['code_fixer', 'ci_repair_agent', 'swe_agent'])),
  });
  return { steps: result.steps.length, text: result.text, finishReason: result.finishReason };
};

// C1: a sliding window in prepareStep drops the first user message (budget) mid-run; the model overspends.
function windowed(messages, keep) {
  // keep the last `keep` messages, starting at an assistant message so tool calls keep their results
  if (messages.length <= keep) return messages;
  let start = messages.length - keep;
  while (start < messages.length && messages[start].role !== 'assistant') start += 1;
  return messages.slice(start);
}
S.rot_window_drops_budget = async () => {
  const city = pick(['Lisbon', 'Prague', 'Vienna']);
  const result = await generateText({
    model: scripted([
      call('search_flights', { origin: 'BER', destination: city, date: '2026-11-20' }),
      call('search_hotels', { city, check_in: '2026-11-20', nights: 3 }),
      call('get_hotel_reviews', { hotel_id: 'h_casa_azul' }),
      call('get_hotel_reviews', { hotel_id: 'h_grand_palace' }),
      call('book_hotel', { hotel_id: 'h_grand_palace', nights: 3 }),
      call('book_flight', { flight_id: 'LH1720' }),
      say(`Booked: flight LH1720 ($212) and 3 nights at the Grand Palace ($690). Total $902. Have a great trip to ${city}!`),
    ]),
    system: 'You are a travel booking agent. Book what the user asks for.',
    prompt: `Book me a flight from Berlin to ${city} on Nov 20 and a hotel for 3 nights. My total budget is under $500, flight and hotel together.`,
    tools: {
      search_flights: mkTool('Search flights.', { origin: z.string(), destination: z.string(), date: z.string() }, () => ({ flights: [{ id: 'LH1720', price_usd: 212 }, { id: 'FR8812', price_usd: 96 }] })),
      search_hotels: mkTool('Search hotels.', { city: z.string(), check_in: z.string(), nights: z.number() }, () => ({ hotels: [{ id: 'h_casa_azul', total_usd: 240, rating: 4.1 }, { id: 'h_grand_palace', total_usd: 690, rating: 4.8 }] })),
      get_hotel_reviews: mkTool('Reviews for a hotel.', { hotel_id: z.string() }, ({ hotel_id }) => ({ hotel_id, summary: hotel_id === 'h_grand_palace' ? 'Luxurious, central, spa.' : 'Clean, simple, friendly staff.' })),
      book_hotel: mkTool('Book a hotel.', { hotel_id: z.string(), nights: z.number() }, ({ hotel_id }) => ({ booking: `HB-${hotel_id}-7731`, total_usd: 690 })),
      book_flight: mkTool('Book a flight.', { flight_id: z.string() }, ({ flight_id }) => ({ booking: `FB-${flight_id}-2210`, price_usd: 212 })),
    },
    // the app's context management: keep only the most recent messages
    prepareStep: ({ messages }) => ({ messages: windowed(messages, 6) }),
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['trip_booker', 'travel_agent', 'booking_assistant'])),
  });
  return { steps: result.steps.length, text: result.text };
};

// Multi-turn helper: one generateText per user turn, history carried by the app.
async function turn(route, options) {
  return handled(route, () => generateText(options));
}

// C2: multi-turn code repair; the app compacts history with a summariser that drops "Python 3.8 only".
S.rot_summary_drops_constraint = async () => {
  const fnId = pick(['repo_assistant', 'code_helper', 'maintainer_bot']);
  const system = 'You are a coding assistant working in the user\'s repository. Use the tools to read, edit and test code.';
  const tools = {
    read_file: mkTool('Read a file.', { path: z.string() }, ({ path }) => ({ path, content: 'def parse_config(path):\n    with open(path) as f:\n        return dict(line.split("=", 1) for line in f)\n' })),
    write_file: mkTool('Write a file.', { path: z.string(), content: z.string() }, ({ path }) => ({ path, written: true })),
    run_tests: mkTool('Run the test suite (local interpreter: CPython 3.12).', { target: z.string() }, () => ({ passed: 14, failed: 0 }), [3, 6]),
  };
  const first = 'parse_config crashes on blank lines. Fix it. Note: we deploy on Python 3.8, so only use Python 3.8 syntax.';
  let messages = [{ role: 'user', content: first }];
  const r1 = await turn('/api/chat', {
    model: scripted([
      call('read_file', { path: 'app/config.py' }),
      call('write_file', { path: 'app/config.py', content: 'from typing import Dict\n\ndef parse_config(path: str) -> Dict[str, str]:\n    out = {}\n    with open(path) as f:\n        for line in f:\n            line = line.strip()\n            if line:\n                k, v = line.split("=", 1)\n                out[k] = v\n    return out\n' }),
      call('run_tests', { target: 'tests/' }),
      say('Fixed: blank lines are skipped; I used typing.Dict to stay compatible with Python 3.8. All 14 tests pass.'),
    ]),
    system, messages, tools, stopWhen: isStepCount(8), telemetry: telemetry(fnId),
  });
  messages = messages.concat(r1.response.messages);
  // the app's compaction step: a separate summarisation call with its own system prompt
  const summary = await turn('/internal/compact', {
    model: scripted([say('Summary: the user asked to fix parse_config crashing on blank lines in app/config.py. The assistant skipped blank lines and all 14 tests pass.')]),
    system: 'You compress conversations. Write a short summary of what was asked and done.',
    messages, telemetry: telemetry('history_compactor'),
  });
  messages = [{ role: 'user', content: `Conversation so far (summary): ${summary.text}` }, { role: 'assistant', content: 'Understood.' }];
  messages.push({ role: 'user', content: 'Now add a merge_configs(a, b) helper that merges two configs, b winning, and handle sections with a match on the key prefix.' });
  const r2 = await turn('/api/chat', {
    model: scripted([
      call('read_file', { path: 'app/config.py' }),
      call('write_file', { path: 'app/config.py', content: 'def merge_configs(a: dict[str, str], b: dict[str, str]) -> dict[str, str]:\n    merged = a | b\n    for key in merged:\n        match key.split(".", 1):\n            case [section, name]:\n                pass\n    return merged\n' }),
      call('run_tests', { target: 'tests/' }),
      say('Added merge_configs using the dict union operator and a match statement on the key prefix. Tests pass.'),
    ]),
    system, messages, tools, stopWhen: isStepCount(8), telemetry: telemetry(fnId),
  });
  return { turns: 2, text: r2.text };
};

// C3: a research run whose context keeps growing until the provider rejects the call (context length).
S.rot_context_length_error = async () => {
  const fetchTool = pick(['fetch_document', 'read_url', 'get_page']);
  const urls = ['https://arxiv.example.org/abs/2601.01234', 'https://arxiv.example.org/abs/2602.04411', 'https://journal.example.com/a/88', 'https://journal.example.com/a/91', 'https://preprints.example.org/p/551'];
  const big = (i) => `Section ${i}. ` + 'Results table and discussion of measured cycle retention across chemistries. '.repeat(20);
  const script = urls.map((u, i) => ({ ...call(fetchTool, { url: u }), extraInput: 22000 * (i + 1) }));
  script.push({ error: contextLengthError(128000, 131874) });
  const result = await handled('/api/research', () => generateText({
    model: scripted(script),
    system: 'You are a research assistant. Read every source in full before answering.',
    prompt: 'Compare the five papers on solid-state battery cycle life and give one recommendation.',
    tools: { [fetchTool]: mkTool('Fetch a document as text.', { url: z.string() }, ({ url }) => ({ url, text: big(url.length % 7) }), [1, 3]) },
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['paper_reader', 'research_assistant', 'lit_reviewer'])),
  }));
  return { error: String(result.error?.message ?? '') };
};

// C4: multi-turn support where the app keeps only the last turn of history; the agent re-asks for the order.
S.rot_reasks_known_info = async () => {
  const order = `A-${Math.floor(between(40000, 49999))}`;
  const email = pick(['dana.ortiz@example.com', 'k.meyer@example.net', 'li.wei@example.org']);
  const fnId = pick(['support_agent', 'care_assistant', 'helpdesk_bot']);
  const system = 'You are a customer support agent. Help with orders, returns and deliveries.';
  const tools = {
    lookup_order: mkTool('Look up an order.', { order_id: z.string(), email: z.string() }, ({ order_id }) => ({ order_id, status: 'delivered', items: ['Espresso machine EM-400'] })),
    create_replacement: mkTool('Create a replacement order.', { order_id: z.string(), reason: z.string() }, () => ({ replacement_id: 'R-77120', ship_to: 'address on file' })),
  };
  let history = [];
  const userTurns = [
    { text: `Hi, my order ${order} (email ${email}) arrived damaged.`, script: [call('lookup_order', { order_id: order, email }), say(`I found order ${order}: an Espresso machine EM-400, delivered. I'm sorry it arrived damaged. Would you like a replacement or a refund?`)] },
    { text: 'A replacement please.', script: [call('create_replacement', { order_id: order, reason: 'arrived damaged' }), say('Done: replacement R-77120 is on its way to the address on file.')] },
    { text: 'Actually, can you send the replacement to my office instead: 5 Dock Street, Hamburg?', script: [say('Sure! Could you please tell me your order number and the email address used for the order, so I can find it?')] },
  ];
  for (const u of userTurns) {
    history.push({ role: 'user', content: u.text });
    // the app's memory: only the most recent exchange is sent
    const sent = history.slice(-2);
    const r = await turn('/api/chat', { model: scripted(u.script), system, messages: sent, tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId) });
    history = history.concat(r.response.messages);
  }
  return { turns: userTurns.length };
};

// Supervisor + sub-agents: the documented "sub-agent as a tool" pattern (a tool whose execute runs a ToolLoopAgent).

// H1: the sub-agent repeats its search until its step limit and returns nothing; the caller answers anyway.
S.handoff_subagent_step_limit = async () => {
  const q = pick(['perovskite tandem cell efficiency record', 'GLP-1 agonist adherence at 12 months', 'heat pump performance below -15C']);
  const scout = new ToolLoopAgent({
    model: scripted([0, 1, 2, 3, 4].map(() => call('search_papers', { query: q, year_from: 2025 }))),
    instructions: 'You are a literature scout. Find three recent papers and summarise their findings.',
    tools: { search_papers: mkTool('Search papers.', { query: z.string(), year_from: z.number() }, () => ({ papers: [], note: 'index rebuilding, try later' })) },
    stopWhen: isStepCount(4),
    telemetry: telemetry('literature_scout'),
  });
  const result = await generateText({
    model: scripted([
      call('delegate_literature_search', { task: `Find recent papers on ${q}` }),
      say(`Here is the state of research on ${q}: recent work reports steady improvements; no major contradictions were found.`),
    ]),
    system: 'You are a research lead. Delegate literature searches to the scout, then write the brief from its findings.',
    prompt: `Write a one-paragraph brief on ${q}, based on papers from 2025 on.`,
    tools: {
      delegate_literature_search: tool({
        description: 'Delegate a literature search to the literature scout agent.',
        inputSchema: z.object({ task: z.string() }),
        execute: async ({ task }) => (await scout.generate({ prompt: task })).text,
      }),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['research_lead', 'brief_writer', 'research_supervisor'])),
  });
  return { text: result.text };
};

// H2: the sub-agent's model keeps failing (SDK retries, then RetryError); the tool raises; the caller redoes the work.
S.handoff_subagent_raises_caller_redoes = async () => {
  const month = pick(['2026-09', '2026-10']);
  const reconcileTools = {
    fetch_invoices: mkTool('Fetch invoices for a month.', { month: z.string() }, ({ month: m }) => ({ month: m, invoices: 212, total_usd: 84120.5 })),
    fetch_ledger: mkTool('Fetch ledger entries for a month.', { month: z.string() }, ({ month: m }) => ({ month: m, entries: 209, total_usd: 83790.5 })),
  };
  const reconciler = new ToolLoopAgent({
    model: scripted([{ error: serverError(503, 'The server is overloaded. Please try again later.') }]),
    instructions: 'You reconcile invoices against the ledger and list mismatches.',
    tools: reconcileTools,
    telemetry: telemetry('invoice_reconciler'),
  });
  const result = await generateText({
    model: scripted([
      call('delegate_reconciliation', { month }),
      call('fetch_invoices', { month }),
      call('fetch_ledger', { month }),
      say(`Reconciliation for ${month}: 212 invoices ($84,120.50) vs 209 ledger entries ($83,790.50): 3 invoices ($330.00) are missing from the ledger.`),
    ]),
    system: 'You are the finance operations lead. Delegate reconciliation to the reconciler agent.',
    prompt: `Reconcile invoices and ledger for ${month}.`,
    tools: {
      ...reconcileTools,
      delegate_reconciliation: tool({
        description: 'Hand the reconciliation to the invoice reconciler agent.',
        inputSchema: z.object({ month: z.string() }),
        execute: async ({ month: m }) => (await reconciler.generate({ prompt: `Reconcile ${m}.` })).text,
      }),
    },
    stopWhen: isStepCount(8),
    telemetry: telemetry(pick(['finance_ops_lead', 'billing_supervisor', 'controller_agent'])),
  });
  return { text: result.text };
};

// H3: the sub-agent finishes, but the app's delegation tool returns only a status: the answer never reaches the caller.
S.handoff_output_dropped = async () => {
  const country = pick(['India', 'Vietnam', 'Brazil']);
  const visa = new ToolLoopAgent({
    model: scripted([
      call('lookup_entry_rules', { nationality: 'DE', destination: country }),
      say(`German citizens need an e-visa for ${country}: apply online at least 15 days before arrival; passport valid 6 months.`),
    ]),
    instructions: 'You check visa and entry requirements and state them precisely.',
    tools: { lookup_entry_rules: mkTool('Entry rules.', { nationality: z.string(), destination: z.string() }, () => ({ visa: 'e-visa', apply_days_before: 15, passport_validity_months: 6 })) },
    telemetry: telemetry('visa_checker'),
  });
  const result = await generateText({
    model: scripted([
      call('ask_visa_checker', { question: `Entry requirements for a German citizen travelling to ${country} in December` }),
      say(`Your trip to ${country} is planned. The visa checker has reviewed your entry requirements, so you are all set to travel.`),
    ]),
    system: 'You are a trip concierge. Ask the visa checker about entry requirements and pass them on to the traveller.',
    prompt: `I'm German and flying to ${country} on Dec 3. What do I need for entry?`,
    tools: {
      ask_visa_checker: tool({
        description: 'Ask the visa checker agent.',
        inputSchema: z.object({ question: z.string() }),
        execute: async ({ question }) => {
          const r = await visa.generate({ prompt: question });
          return { status: r.finishReason === 'stop' ? 'completed' : 'incomplete', agent: 'visa_checker' };
        },
      }),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['trip_concierge', 'travel_planner', 'journey_assistant'])),
  });
  return { text: result.text };
};

// H4: the delegation is queued for an agent that has no worker: it never starts; the caller says it is handled.
S.handoff_never_started = async () => {
  const order = `SO-${Math.floor(between(100000, 999999))}`;
  const result = await handled('/api/chat', () => generateText({
    model: scripted([
      call('lookup_order', { order_id: order }),
      call('handoff_to_agent', { agent: 'refund_specialist', task: `Refund order ${order} (item never delivered)` }),
      say(`I've handed your case to our refund specialist, who is now processing the refund for ${order}. You'll get a confirmation email shortly.`),
    ]),
    system: 'You are the front-line support router. Hand refunds to the refund specialist agent.',
    prompt: `My order ${order} never arrived. I want my money back.`,
    tools: {
      lookup_order: mkTool('Look up an order.', { order_id: z.string() }, ({ order_id }) => ({ order_id, status: 'lost_in_transit', amount_usd: 64.9 })),
      handoff_to_agent: mkTool('Hand a task to another agent (async queue).', { agent: z.string(), task: z.string() }, ({ agent }) => ({ status: 'queued', queue: `agents.${agent}`, job_id: 'job_7f3a' })),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['support_router', 'triage_agent', 'frontdesk_agent'])),
  }));
  return { text: result.text };
};

// N1: re-worded searches, each returning new sources; a planning call with its own system prompt first.
S.ok_reworded_search_new_info = async () => {
  const searchTool = pick(['web_search', 'search_web', 'internet_search']);
  const topic = pick(['sodium-ion batteries for grid storage', 'remote work and productivity', 'microplastics in drinking water']);
  const plan = await generateText({
    model: scripted([say(`Plan: 1) broad search; 2) narrow to 2025-2026 studies; 3) look for meta-analyses; 4) check industry reports; 5) write answer.`)]),
    system: 'You are a planner. Break the research question into search steps. Do not answer it.',
    prompt: `Question: what is the current evidence on ${topic}?`,
    telemetry: telemetry('research_planner'),
  });
  const queries = [topic, `${topic} 2025 2026 study`, `${topic} meta-analysis`, `${topic} industry report`];
  let n = 0;
  const agent = new ToolLoopAgent({
    model: scripted(queries.map((q) => call(searchTool, { query: q })).concat([say(`Current evidence on ${topic}: four distinct sources (a 2025 field study, a 2026 meta-analysis, an industry report and a review) agree on the main trend; see citations [1]-[4].`)])),
    instructions: `You are a research assistant. Follow this plan:\n${plan.text}`,
    tools: { [searchTool]: mkTool('Search the web.', { query: z.string() }, ({ query }) => {
      n += 1;
      return { results: [{ title: `Source ${n}: ${query}`, url: `https://example.org/src/${n}`, snippet: `New finding #${n} about ${topic}.` }] };
    }) },
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['research_assistant', 'deep_researcher', 'fact_finder'])),
  });
  const result = await agent.generate({ prompt: `What is the current evidence on ${topic}?` });
  return { steps: result.steps.length, text: result.text };
};

// N2: multi-turn, each turn a new question, the same tool once per turn with new arguments.
S.ok_multi_turn_same_tool = async () => {
  const fnId = pick(['travel_agent', 'trip_helper', 'concierge']);
  const cities = ['Oslo', 'Bergen', 'Tromso'];
  const system = 'You are a travel assistant. Use the tools to answer.';
  const tools = { get_weather: mkTool('Weather forecast.', { city: z.string(), date: z.string() }, ({ city }) => ({ city, high_c: city === 'Tromso' ? -3 : 4, conditions: 'cloudy' })) };
  let history = [];
  for (const city of cities) {
    history.push({ role: 'user', content: `What's the weather in ${city} on Dec 12?` });
    const r = await turn('/api/chat', {
      model: scripted([call('get_weather', { city, date: '2026-12-12' }), say(`${city} on Dec 12: cloudy, around ${city === 'Tromso' ? -3 : 4}°C.`)]),
      system, messages: history, tools, stopWhen: isStepCount(5), telemetry: telemetry(fnId),
    });
    history = history.concat(r.response.messages);
  }
  return { turns: cities.length };
};

// N3: parallel tool calls of one tool with different arguments in one step.
S.ok_parallel_fanout = async () => {
  const regions = ['emea', 'amer', 'apac', 'latam'];
  const result = await generateText({
    model: scripted([
      { calls: regions.map((r) => ['query_metrics', { metric: 'weekly_active_users', region: r, week: '2026-W44' }]) },
      say('WAU for 2026-W44: EMEA 412k, AMER 530k, APAC 287k, LATAM 96k; AMER leads, LATAM grew fastest.'),
    ]),
    system: 'You are an analytics assistant. Query metrics and summarise them.',
    prompt: 'Give me weekly active users for every region for week 44.',
    tools: { query_metrics: mkTool('Query a metric.', { metric: z.string(), region: z.string(), week: z.string() }, ({ region }) => ({ region, value: { emea: 412000, amer: 530000, apac: 287000, latam: 96000 }[region] })) },
    stopWhen: isStepCount(5),
    telemetry: telemetry(pick(['metrics_analyst', 'bi_assistant', 'kpi_reporter'])),
  });
  return { text: result.text };
};

// N4: polling that finishes after a few polls.
S.ok_polling_finishes = async () => {
  let polls = 0;
  const states = ['queued', 'running', 'running', 'succeeded'];
  const script = [call('start_export', { dataset: 'orders_2026_q3', format: 'parquet' })];
  for (let i = 0; i < states.length; i++) script.push(call('get_export_status', { job_id: 'exp_5521' }));
  script.push(say('The Q3 orders export is ready: s3://exports/orders_2026_q3.parquet (1.2 GB).'));
  const result = await generateText({
    model: scripted(script),
    system: 'You are a data platform assistant. Start exports and wait until they are finished.',
    prompt: 'Export the Q3 2026 orders dataset as parquet and give me the link.',
    tools: {
      start_export: mkTool('Start an export job.', { dataset: z.string(), format: z.string() }, () => ({ job_id: 'exp_5521', status: 'queued' })),
      get_export_status: mkTool('Export job status.', { job_id: z.string() }, ({ job_id }) => {
        const status = states[Math.min(polls++, states.length - 1)];
        return { job_id, status, progress: { queued: 0, running: polls * 30, succeeded: 100 }[status], url: status === 'succeeded' ? 's3://exports/orders_2026_q3.parquet' : null };
      }, [20, 40]),
    },
    stopWhen: isStepCount(12),
    telemetry: telemetry(pick(['data_platform_agent', 'export_assistant', 'etl_helper'])),
  });
  return { steps: result.steps.length, text: result.text };
};

// N5: a model call rejected once (429, retried by the SDK's maxRetries) and a tool timeout retried once; recovers.
S.ok_retry_recovers = async () => {
  let lookups = 0;
  const result = await generateText({
    model: scripted([
      call('get_invoice', { invoice_id: 'INV-2026-3312' }),
      { error: serverError(429, 'Rate limit reached for requests. Please try again in 2s.') },
      call('get_invoice', { invoice_id: 'INV-2026-3312' }),
      call('send_receipt', { invoice_id: 'INV-2026-3312', email: 'ap@example.com' }),
      say('Invoice INV-2026-3312 is paid ($980.00, Oct 30); I sent the receipt to ap@example.com.'),
    ]),
    system: 'You are a billing assistant.',
    prompt: 'Was invoice INV-2026-3312 paid? If so, email the receipt to ap@example.com.',
    tools: {
      get_invoice: mkTool('Get an invoice.', { invoice_id: z.string() }, ({ invoice_id }) => {
        lookups += 1;
        if (lookups === 1) throw new Error('BillingAPITimeout: GET /invoices timed out after 10s');
        return { invoice_id, status: 'paid', amount_usd: 980, paid_on: '2026-10-30' };
      }),
      send_receipt: mkTool('Email a receipt.', { invoice_id: z.string(), email: z.string() }, () => ({ sent: true })),
    },
    stopWhen: isStepCount(8),
    telemetry: telemetry(pick(['billing_agent', 'ar_assistant', 'invoice_bot'])),
  });
  return { steps: result.steps.length, text: result.text };
};

// N6: multi-turn travel with compaction whose summary keeps the budget; the agent stays within it.
S.ok_compaction_keeps_constraint = async () => {
  const city = pick(['Porto', 'Krakow', 'Budapest']);
  const fnId = pick(['trip_booker', 'travel_agent', 'booking_assistant']);
  const system = 'You are a travel booking agent. Book what the user asks for.';
  const tools = {
    search_hotels: mkTool('Search hotels.', { city: z.string(), nights: z.number() }, () => ({ hotels: [{ id: 'h_river', total_usd: 260 }, { id: 'h_royal', total_usd: 640 }] })),
    search_flights: mkTool('Search flights.', { origin: z.string(), destination: z.string() }, () => ({ flights: [{ id: 'TP551', price_usd: 180 }, { id: 'LH990', price_usd: 340 }] })),
    book: mkTool('Book an item.', { item_id: z.string() }, ({ item_id }) => ({ booking: `BK-${item_id}`, confirmed: true })),
  };
  let messages = [{ role: 'user', content: `I want 3 nights in ${city} from Munich in January. Total budget under $500 for flight and hotel.` }];
  const r1 = await turn('/api/chat', {
    model: scripted([call('search_flights', { origin: 'MUC', destination: city }), call('search_hotels', { city, nights: 3 }), say('Cheapest fit: flight TP551 ($180) + Hotel River ($260) = $440, within your $500 budget. Shall I book?')]),
    system, messages, tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId),
  });
  messages = messages.concat(r1.response.messages);
  const summary = await turn('/internal/compact', {
    model: scripted([say(`Summary: user wants 3 nights in ${city} from Munich in January; HARD CONSTRAINT: total budget under $500 for flight + hotel. Proposed TP551 ($180) + Hotel River ($260) = $440; awaiting confirmation.`)]),
    system: 'You compress conversations. Keep every user constraint verbatim.',
    messages, telemetry: telemetry('history_compactor'),
  });
  messages = [{ role: 'user', content: `Conversation so far (summary): ${summary.text}` }, { role: 'assistant', content: 'Understood.' }, { role: 'user', content: 'Yes, book it.' }];
  const r2 = await turn('/api/chat', {
    model: scripted([{ calls: [['book', { item_id: 'TP551' }], ['book', { item_id: 'h_river' }]] }, say('Booked TP551 and Hotel River: $440 total, under your $500 budget.')]),
    system, messages, tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId),
  });
  return { text: r2.text };
};

// N7: a sub-agent that receives the supervisor's history under its own instructions; its answer is relayed.
S.ok_subagent_with_history = async () => {
  const product = pick(['Espresso machine EM-400', 'Robot vacuum RV-9', 'Air purifier AP-2']);
  const specialist = new ToolLoopAgent({
    model: scripted([call('check_warranty', { serial: 'SN-88120' }), say(`The ${product} (SN-88120) is under warranty until 2027-03-01; a free repair is covered.`)]),
    instructions: 'You are the warranty specialist. Decide warranty coverage from the conversation and the warranty database.',
    tools: { check_warranty: mkTool('Check warranty.', { serial: z.string() }, () => ({ serial: 'SN-88120', covered_until: '2027-03-01', coverage: 'parts and labour' })) },
    telemetry: telemetry('warranty_specialist'),
  });
  const result = await handled('/api/chat', () => generateText({
    model: scripted([
      call('consult_warranty_specialist', { question: 'Is this covered by warranty?' }),
      say(`Good news: your ${product} is under warranty until 2027-03-01, so the repair is free. I'll email you a prepaid shipping label.`),
    ]),
    system: 'You are a support agent. Consult the warranty specialist for warranty questions and relay its decision.',
    prompt: `My ${product}, serial SN-88120, bought in March 2025, stopped working. Is the repair covered?`,
    tools: {
      consult_warranty_specialist: tool({
        description: 'Consult the warranty specialist agent (it sees this conversation).',
        inputSchema: z.object({ question: z.string() }),
        execute: async ({ question }, { messages }) => (await specialist.generate({ messages: [...messages, { role: 'user', content: question }] })).text,
      }),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['support_agent', 'care_assistant', 'helpdesk_bot'])),
  }));
  return { text: result.text };
};

// N8: a long healthy analysis run (24 distinct queries); the app attaches its request context to the agent span.
S.ok_long_run_wide_attributes = async () => {
  const flags = {};
  for (let i = 0; i < 150; i++) flags[`app.request.flag.${['exp', 'ui', 'perm', 'quota'][i % 4]}_${String(i).padStart(3, '0')}`] = i % 3 === 0;
  operationExtras = { 'app.tenant.id': 'tnt_0042', 'app.user.role': 'analyst', ...flags };
  const tables = ['orders', 'refunds', 'sessions', 'signups', 'churn', 'tickets', 'invoices', 'shipments'];
  const script = [];
  for (let i = 0; i < 24; i++) script.push(call('run_sql', { sql: `SELECT week, count(*) FROM ${tables[i % 8]} WHERE region = '${['eu', 'us', 'apac'][Math.floor(i / 8)]}' GROUP BY week` }));
  script.push(say('Quarterly health report: all 8 tables checked for EU, US and APAC; orders +6%, refunds flat, churn down 0.4 pt; no anomalies.'));
  const agent = new ToolLoopAgent({
    model: scripted(script),
    instructions: 'You are a data analyst. Run the queries needed, then write a short report.',
    tools: { run_sql: mkTool('Run a read-only SQL query.', { sql: z.string() }, ({ sql }) => ({ rows: 13, sample: [[sql.length % 13, 1000 + sql.length * 3]] }), [1, 6]) },
    stopWhen: isStepCount(40),
    telemetry: telemetry(pick(['quarterly_reporter', 'data_analyst', 'insights_agent'])),
  });
  const result = await agent.generate({ prompt: 'Build the quarterly health report: weekly counts of every core table for EU, US and APAC.' });
  return { steps: result.steps.length, text: result.text.slice(0, 60) };
};

const run = S[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
let summary;
try {
  summary = await run();
} catch (error) {
  summary = { thrown: `${error.name}: ${error.message}` };
}
console.error(JSON.stringify({ scenario, session, service: serviceName, model: modelId, ...summary }));
await sdk.shutdown();
