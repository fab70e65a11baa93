// Second evaluation-corpus batch on the Vercel AI SDK 7 (generateText / ToolLoopAgent + tools), driven by corpus2_js.py.
// Same harness as ../corpus/corpus_agent.mjs (copied): the model is the SDK's own MockLanguageModelV4 (ai/test)
// answering from a per-scenario script; tools really execute (their backends are fakes). Telemetry: the SDK's
// default OpenTelemetry integration (@ai-sdk/otel), NodeSDK + exporter-trace-otlp-proto to a receiver on 127.0.0.1.
//
//   node corpus2_agent.mjs '{"scenario": "...", "session": "js-c2-...", "seed": 101, "domain": "it", "content": true, "endpoint": "http://127.0.0.1:PORT"}'
//
// Deterministic: seeded RNG (mulberry32), seeded trace/span ids, and a simulated clock (Date.now and
// performance.now are replaced, so timestamps and durations are reproducible and a run can "last" minutes).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { trace, SpanStatusCode } from '@opentelemetry/api';
import { OpenTelemetry } from '@ai-sdk/otel';
import { APICallError, generateText, hasToolCall, isStepCount, pruneMessages, registerTelemetry, tool, ToolLoopAgent } from 'ai';
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
  generateTraceId: () => `c2${seedHex}`.padEnd(24, '0') + (++traceCounter).toString(16).padStart(8, '0'),
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
  it: ['it-helpdesk-bot', 'servicedesk-ai', 'employee-it-assist'],
  ecommerce: ['fulfilment-agent', 'shipping-ops-copilot', 'parcel-desk'],
  energy: ['stadtwerke-assist', 'utility-care-bot', 'tarif-helper'],
  events: ['dinner-planner-api', 'event-concierge', 'table-booker'],
  legal: ['contract-reader', 'clause-copilot', 'legal-qa-svc'],
  devops: ['deploy-copilot', 'release-bot', 'platform-assistant'],
  hr: ['people-ops-agent', 'hr-scheduler', 'recruiting-copilot'],
  telecom: ['mobile-care-agent', 'telco-support-svc', 'plan-advisor'],
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
function scripted(script, { tokenBias = 0, provider = 'openai.chat', model = modelId } = {}) {
  let turn = 0;
  return new MockLanguageModelV4({
    provider,
    modelId: model,
    doGenerate: async (options) => {
      let entry = script[Math.min(turn, script.length - 1)];
      turn += 1;
      if (typeof entry === 'function') entry = entry(options);
      advance(between(0.7, 3.5));
      if (entry.error) throw entry.error;
      const inputTokens = promptTokens(options.prompt) + tokenBias + (entry.extraInput ?? 0);
      respCounter += 1;
      const response = { id: `chatcmpl-${seedHex}${respCounter}`, modelId: model, timestamp: new Date(Date.now()) };
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
const turn = (route, options) => handled(route, () => generateText(options));
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

// ===== runaway_loop =====

// L1: the model alternates between two re-wordings of one KB search; the same stale article comes back every
// time; after 8 searches it gives up (no limit hit).
S.loop_alternating_rewordings = async () => {
  const idp = pick(['Okta', 'Entra ID', 'OneLogin']);
  const kb = pick(['kb_search', 'search_knowledge_base', 'confluence_search']);
  const a = `${idp} MFA reset after phone change`;
  const b = `reset ${idp} multi-factor new phone`;
  const stale = { results: [{ id: 'KB-0112', title: `Logging in with ${idp} (2021)`, updated: '2021-03-04', snippet: 'Open the portal and sign in with your company e-mail.' }] };
  const agent = new ToolLoopAgent({
    model: scripted([a, b, a, b, a, b, a, b].map((q) => call(kb, { query: q, space: 'IT' })).concat([
      say(`Sorry, I could not find instructions for resetting ${idp} MFA. Please open a ticket with the service desk.`),
    ])),
    instructions: 'You are the internal IT helpdesk assistant. Answer from the knowledge base; cite the article id.',
    tools: { [kb]: mkTool('Search the IT knowledge base.', { query: z.string(), space: z.string() }, () => stale, [0.3, 0.9]) },
    stopWhen: isStepCount(15),
    telemetry: telemetry(pick(['it_helpdesk', 'servicedesk_assistant', 'access_helper'])),
  });
  const r = await agent.generate({ prompt: `I got a new phone and can't pass the ${idp} MFA prompt anymore. How do I reset it?` });
  return { steps: r.steps.length, finishReason: r.finishReason };
};

// L2: label creation fails with the same carrier error, only the request id differs; other tools in between;
// stopWhen isStepCount(10) ends the run with no label.
S.loop_error_request_id = async () => {
  const order = `WO-${Math.floor(between(200000, 299999))}`;
  const carrier = pick(['DHL Express', 'UPS', 'FedEx']);
  const addr = { street: 'Kastanienallee 12', city: 'Berlin', postcode: '10435', country: 'DE' };
  const tools = {
    validate_address: mkTool('Validate a shipping address.', { order_id: z.string() }, () => ({ valid: true, normalized: addr })),
    get_rates: mkTool('Carrier rates for an order.', { order_id: z.string(), carrier: z.string() }, () => ({ carrier, service: 'express', price_eur: 18.4 })),
    create_label: mkTool('Create a shipping label.', { order_id: z.string(), carrier: z.string(), service: z.string() }, () => {
      throw new Error(`CarrierAPIError: 502 Bad Gateway from ${carrier} label endpoint (request_id=req_${hex(12)})`);
    }, [2, 5]),
  };
  const label = call('create_label', { order_id: order, carrier, service: 'express' });
  const script = [
    call('validate_address', { order_id: order }), call('get_rates', { order_id: order, carrier }), label,
    call('get_rates', { order_id: order, carrier }), label, call('validate_address', { order_id: order }), label,
    call('get_rates', { order_id: order, carrier }), label, label, label,
  ];
  const r = await generateText({
    model: scripted(script),
    system: 'You are a fulfilment agent. Ship paid orders: validate the address, pick a rate, create the label.',
    prompt: `Order ${order} is paid. Ship it express with ${carrier} and give me the tracking number.`,
    tools,
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['fulfilment_agent', 'shipping_bot', 'warehouse_assistant'])),
  });
  return { steps: r.steps.length, finishReason: r.finishReason, text: r.text };
};

// L3: ToolLoopAgent with toolChoice 'required' and its default stop condition: the model can never answer, so
// it calls the same slot finder with identical arguments until the framework's 20-step default.
S.loop_forced_tool_default_limit = async () => {
  const who = pick(['Priya Nair', 'Tom Berger', 'Ana Lima']);
  const args = { attendees: [who, 'hiring-panel@corp.example'], duration_min: 45, week: '2026-W49' };
  const agent = new ToolLoopAgent({
    model: scripted(Array.from({ length: 24 }, () => call('find_meeting_slots', args))),
    instructions: 'You are a recruiting coordinator. Schedule interviews using the calendar tools.',
    toolChoice: 'required',
    tools: {
      find_meeting_slots: mkTool('Find common free slots.', { attendees: z.array(z.string()), duration_min: z.number(), week: z.string() }, () => ({ slots: [], reason: 'hiring panel calendar is private' })),
      send_invite: mkTool('Send a calendar invite.', { slot: z.string(), attendees: z.array(z.string()) }, () => ({ sent: true })),
    },
    telemetry: telemetry(pick(['interview_scheduler', 'recruiting_coordinator', 'calendar_agent'])),
  });
  const r = await agent.generate({ prompt: `Schedule a 45 minute onsite interview with ${who} next week (W49).` });
  return { steps: r.steps.length, finishReason: r.finishReason };
};

// L4: code agent on TypeScript; each step edits a different file and runs the type checker in parallel; the
// checker reports the same TS2345 error every time (returned, not thrown); an app-defined token budget stops it.
S.loop_typecheck_same_error_budget = async () => {
  const err = "src/api/client.ts(88,17): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'string'.";
  const files = ['src/api/types.ts', 'src/api/client.ts', 'src/config.ts', 'src/api/client.ts', 'src/env.d.ts', 'src/api/client.ts', 'src/util/assert.ts', 'src/api/client.ts'];
  const script = [call('read_file', { path: 'src/api/client.ts' })];
  files.forEach((f, i) => script.push({ calls: [['edit_file', { path: f, change: `attempt ${i + 1}: tighten type of baseUrl` }], ['run_typecheck', { project: 'tsconfig.json' }]] }));
  let budgetUsed = 0;
  const tokenBudget = ({ steps }) => {
    budgetUsed = steps.reduce((n, s) => n + (s.usage?.totalTokens ?? 0), 0);
    return budgetUsed > 14000;
  };
  const r = await generateText({
    model: scripted(script),
    system: 'You are a coding agent for a TypeScript monorepo. Make `npm run typecheck` pass with minimal edits.',
    prompt: 'The typecheck job fails on main since the env refactor. Fix it.',
    tools: {
      read_file: mkTool('Read a file.', { path: z.string() }, ({ path }) => ({ path, content: 'export function client(baseUrl = process.env.API_URL) {\n  return new Api(baseUrl);\n}\n' })),
      edit_file: mkTool('Edit a file.', { path: z.string(), change: z.string() }, ({ path }) => ({ path, ok: true })),
      run_typecheck: mkTool('Run tsc --noEmit.', { project: z.string() }, () => ({ exit_code: 2, errors: 1, output: err }), [6, 12]),
    },
    stopWhen: [isStepCount(25), tokenBudget],
    telemetry: telemetry(pick(['ts_fixer', 'code_agent', 'build_doctor'])),
  });
  return { steps: r.steps.length, finishReason: r.finishReason, budgetUsed };
};

// L5 (+ failed_handoff): a sub-agent polls a backfill with an advancing cursor, always "running" at 37%; the
// supervisor's delegation tool aborts it after a 10-minute budget (AbortController); the supervisor reports success.
S.handoff_poller_aborted_budget = async () => {
  const table = pick(['fact_orders', 'events_raw', 'dim_customers']);
  const job = `bf_${hex(6)}`;
  const script = [call('start_backfill', { table, from: '2026-01-01', to: '2026-10-31' })];
  for (let i = 0; i < 30; i++) script.push(call('get_backfill_events', { job_id: job, after_event: 100 + i * 7 }));
  const runner = new ToolLoopAgent({
    model: scripted(script),
    instructions: 'You run warehouse backfills and wait until they complete, then report row counts.',
    tools: {
      start_backfill: mkTool('Start a backfill.', { table: z.string(), from: z.string(), to: z.string() }, () => ({ job_id: job, status: 'running' })),
      get_backfill_events: mkTool('Backfill events after a cursor.', { job_id: z.string(), after_event: z.number() }, ({ after_event }) => ({ events: [{ id: after_event + 7, msg: 'partition 2026-03 retrying' }], status: 'running', progress_pct: 37, next_event: after_event + 7 }), [40, 60]),
    },
    stopWhen: isStepCount(40),
    telemetry: telemetry('backfill_runner'),
  });
  const r = await generateText({
    model: scripted([
      call('delegate_backfill', { table, window: '2026-01-01..2026-10-31' }),
      say(`The ${table} backfill for Jan-Oct 2026 has been run by the backfill runner; dashboards will pick up the data on the next refresh.`),
    ]),
    system: 'You are the data platform supervisor. Delegate long-running jobs to the backfill runner and report the outcome.',
    prompt: `Backfill ${table} for Jan through Oct 2026.`,
    tools: {
      delegate_backfill: tool({
        description: 'Delegate a backfill to the backfill runner agent (10 minute budget).',
        inputSchema: z.object({ table: z.string(), window: z.string() }),
        execute: async ({ table: t, window }) => {
          const ctl = new AbortController();
          const started = Date.now();
          try {
            const out = await runner.generate({
              prompt: `Backfill ${t} for ${window}.`,
              abortSignal: ctl.signal,
              onStepFinish: () => { if (Date.now() - started > 600_000) ctl.abort(new Error('delegation budget of 600s exceeded')); },
            });
            return { status: 'done', report: out.text };
          } catch (e) {
            return { status: 'aborted', agent: 'backfill_runner' };
          }
        },
      }),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['platform_supervisor', 'pipeline_lead', 'data_ops_agent'])),
  });
  return { text: r.text };
};

// ===== context_rot =====

// R1: the policy the run depends on arrives as a tool result; prepareStep prunes old tool calls/results with the
// SDK's pruneMessages, so the "over $200 needs approval" rule is gone when the model issues a $349 refund.
const refundPolicy = { policy: 'REF-7', rule: 'Refunds above $200 require manager approval: call request_approval and do NOT call issue_refund yourself.' };
function refundTools(amount) {
  return {
    get_refund_policy: mkTool('Fetch the current refund policy.', { region: z.string() }, () => refundPolicy),
    lookup_order: mkTool('Look up an order.', { order_id: z.string() }, ({ order_id }) => ({ order_id, amount_usd: amount, item: 'Noise-cancelling headphones NC-700', delivered: '2026-10-21' })),
    get_customer_history: mkTool('Customer history.', { customer_id: z.string() }, () => ({ orders: 14, refunds_last_year: 0, tier: 'gold' })),
    check_return_status: mkTool('Return shipment status.', { order_id: z.string() }, () => ({ received: true, condition: 'opened, undamaged' })),
    issue_refund: mkTool('Issue a refund.', { order_id: z.string(), amount_usd: z.number() }, ({ amount_usd }) => ({ refund_id: `RF-${hex(5)}`, amount_usd })),
    request_approval: mkTool('Ask a manager to approve a refund.', { order_id: z.string(), amount_usd: z.number(), reason: z.string() }, () => ({ ticket: `APR-${hex(4)}`, status: 'pending' })),
  };
}
S.rot_prune_drops_policy = async () => {
  const order = `ORD-${Math.floor(between(700000, 799999))}`;
  const r = await generateText({
    model: scripted([
      call('get_refund_policy', { region: 'US' }),
      call('lookup_order', { order_id: order }),
      call('get_customer_history', { customer_id: 'cus_7710' }),
      call('check_return_status', { order_id: order }),
      call('issue_refund', { order_id: order, amount_usd: 349 }),
      say(`Your refund of $349.00 for ${order} has been issued; it will show on your card in 3-5 business days.`),
    ]),
    system: 'You are a returns agent. Follow the refund policy returned by get_refund_policy.',
    prompt: `I returned the headphones from order ${order} (customer cus_7710). Please refund me.`,
    tools: refundTools(349),
    // the app's context management: drop tool calls/results older than the last 4 messages
    prepareStep: ({ messages }) => ({ messages: pruneMessages({ messages, toolCalls: 'before-last-4-messages', emptyMessages: 'remove' }) }),
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['returns_agent', 'refund_assistant', 'care_agent'])),
  });
  return { steps: r.steps.length, text: r.text };
};

// R2: prepareStep switches the last step to a "formatter" system prompt; the original instructions (answer in
// German, prices incl. 19% VAT) are no longer sent, and the answer is English with net prices.
S.rot_system_swap_drops_instructions = async () => {
  const plz = pick(['10115', '80331', '50667']);
  let toolsDone = 0;
  const r = await generateText({
    model: scripted([
      call('get_tariffs', { postcode: plz, kwh_per_year: 2500 }),
      call('get_meter_reading', { contract: 'V-55120' }),
      say('Your best option is "Strom Flex 12": 29.4 ct/kWh and a base fee of 9.90 EUR per month, about 77 EUR per month for 2,500 kWh.'),
    ]),
    system: 'Du bist der Kundenservice der Stadtwerke. Antworte IMMER auf Deutsch. Nenne Preise IMMER inklusive 19 % MwSt.',
    prompt: `Welcher Tarif ist für mich am günstigsten? PLZ ${plz}, ca. 2500 kWh im Jahr, Vertrag V-55120.`,
    tools: {
      get_tariffs: mkTool('Tariffs (net prices, excl. VAT).', { postcode: z.string(), kwh_per_year: z.number() }, () => ({ tariffs: [{ name: 'Strom Flex 12', ct_per_kwh_net: 29.4, base_fee_eur_month_net: 9.9 }, { name: 'Öko Fix 24', ct_per_kwh_net: 31.2, base_fee_eur_month_net: 7.5 }] })),
      get_meter_reading: mkTool('Latest meter reading.', { contract: z.string() }, () => ({ kwh_last_12m: 2480 })),
    },
    onStepFinish: ({ toolCalls }) => { toolsDone += toolCalls.length; },
    // the app's answer step: once the data is gathered, a formatter persona writes the reply
    prepareStep: () => (toolsDone >= 2 ? { system: 'You are a response formatter. Turn the tool results into a short, friendly answer.', activeTools: [] } : {}),
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['tarif_berater', 'utility_support', 'energy_advisor'])),
  });
  return { steps: r.steps.length, text: r.text };
};

// R3: multi-turn dinner booking; the app's memory is a memory_writer call that extracts facts after each turn,
// and only those facts + the new message are sent; the writer drops the peanut allergy; turn 3 books a satay menu.
S.rot_fact_memory_drops_allergy = async () => {
  const city = pick(['Lyon', 'Ghent', 'Bologna']);
  const fnId = pick(['dinner_planner', 'event_concierge', 'table_booker']);
  const tools = {
    search_restaurants: mkTool('Search restaurants.', { city: z.string(), date: z.string(), party: z.number(), notes: z.string().optional() }, ({ date }) => ({ date, options: [{ id: 'r_jardin', name: 'Le Jardin Vert', menu: 'vegetarian tasting, nut-free on request' }, { id: 'r_satay', name: 'Satay House', menu: 'Thai tasting menu (peanut sauces throughout)' }] })),
    check_availability: mkTool('Check a table.', { restaurant_id: z.string(), date: z.string(), party: z.number() }, () => ({ available: true, times: ['19:30', '20:00'] })),
    book_table: mkTool('Book a table.', { restaurant_id: z.string(), date: z.string(), time: z.string(), party: z.number() }, ({ restaurant_id }) => ({ booking: `TB-${restaurant_id}-${hex(4)}` })),
  };
  const turns = [
    { user: `Dinner for 6 in ${city} on Dec 12. One guest has a severe peanut allergy, and we'd like vegetarian-friendly food.`, script: [call('search_restaurants', { city, date: '2026-12-12', party: 6, notes: 'peanut allergy, vegetarian-friendly' }), say('Le Jardin Vert fits best: vegetarian tasting menu, nut-free on request. Want me to check a table?')], facts: `city=${city}; date=2026-12-12; party=6; prefers vegetarian-friendly; candidate=Le Jardin Vert` },
    { user: 'Can we move it to Dec 13 instead?', script: [call('search_restaurants', { city, date: '2026-12-13', party: 6 }), say('For Dec 13 both Le Jardin Vert and Satay House have tables for 6.')], facts: `city=${city}; date=2026-12-13; party=6; options=Le Jardin Vert, Satay House` },
    { user: 'Book whichever has the more interesting tasting menu, 20:00.', script: [call('check_availability', { restaurant_id: 'r_satay', date: '2026-12-13', party: 6 }), call('book_table', { restaurant_id: 'r_satay', date: '2026-12-13', time: '20:00', party: 6 }), say('Booked Satay House, Dec 13 at 20:00 for 6: their Thai tasting menu is the more adventurous one. Enjoy!')] },
  ];
  let facts = '';
  for (const t of turns) {
    const r = await turn('/api/chat', {
      model: scripted(t.script),
      system: `You plan group dinners and book tables.${facts ? `\nKnown facts about this user: ${facts}` : ''}`,
      messages: [{ role: 'user', content: t.user }], tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId),
    });
    if (t.facts) {
      const m = await turn('/internal/memory', {
        model: scripted([say(t.facts)]),
        system: 'Extract durable facts about the user and their request as key=value pairs separated by semicolons.',
        messages: [{ role: 'user', content: t.user }, ...r.response.messages], telemetry: telemetry('memory_writer'),
      });
      facts = m.text;
    }
  }
  return { turns: turns.length };
};

// R4: multi-turn contract Q&A on an Anthropic-style provider; full history is resent each turn, the document
// excerpts pile up, and turn 4's first model call is rejected with "prompt is too long".
S.rot_prompt_too_long_multi_turn = async () => {
  const party = pick(['Northwind GmbH', 'Acme Logistics BV', 'Helios Energy SA']);
  const fnId = pick(['contract_qa', 'clause_finder', 'legal_reader']);
  const section = (n) => `§${n} ` + `The Supplier shall indemnify the Customer against claims arising from clause ${n} obligations. `.repeat(12);
  const tools = { read_section: mkTool('Read a contract section.', { contract_id: z.string(), section: z.number() }, ({ section: n }) => ({ text: section(n) }), [0.5, 1.5]) };
  const qs = [
    ['What is the liability cap?', [4, 5], 'The liability cap is 150% of annual fees (§4), excluding gross negligence (§5).'],
    ['And the termination notice period?', [11, 12], 'Either party may terminate with 90 days notice (§11); for cause immediately (§12).'],
    ['Does the indemnity cover subcontractors?', [7, 8], 'Yes, §7 extends the indemnity to approved subcontractors; §8 lists the exclusions.'],
    ['Summarise the data-protection obligations.', [15], ''],
  ];
  let history = [];
  let bias = 60000;
  for (const [i, [q, secs, answer]] of qs.entries()) {
    history.push({ role: 'user', content: `${q} (contract with ${party})` });
    const script = i < 3
      ? [{ calls: secs.map((n) => ['read_section', { contract_id: 'CTR-2291', section: n }]) }, say(answer)]
      : [{ error: new APICallError({ message: 'prompt is too long: 204518 tokens > 200000 maximum', url: 'https://api.anthropic.com/v1/messages', requestBodyValues: {}, statusCode: 400, responseBody: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 204518 tokens > 200000 maximum"}}', isRetryable: false }) }];
    const r = await turn('/api/chat', {
      model: scripted(script, { tokenBias: bias, provider: 'anthropic.messages', model: 'claude-sonnet-4-5' }),
      system: 'You answer questions about the uploaded contract. Always read the relevant sections first and cite them.',
      messages: history, tools, stopWhen: isStepCount(5), telemetry: telemetry(fnId),
    });
    if (r.error) break;
    history = history.concat(r.response.messages);
    bias += 45000;
  }
  return { turns: history.filter((m) => m.role === 'user').length };
};

// R5: multi-turn telecom support; the app's session memory has a 30-minute TTL; the user comes back after 41
// minutes in the same conversation; the history is gone and the agent asks again for account and plan.
S.rot_ttl_memory_reask = async () => {
  const msisdn = `+49 151 ${Math.floor(between(1000000, 9999999))}`;
  const fnId = pick(['mobile_care', 'plan_advisor', 'telco_support']);
  const tools = {
    get_account: mkTool('Look up a mobile account.', { msisdn: z.string() }, () => ({ account: 'MA-33019', plan: 'Basic 10GB', contract_end: '2027-02-28' })),
    list_plans: mkTool('Available plans.', { current_plan: z.string() }, () => ({ plans: [{ name: 'Plus 30GB', eur_month: 24.99 }, { name: 'Unlimited', eur_month: 39.99 }] })),
    change_plan: mkTool('Change plan.', { account: z.string(), plan: z.string() }, () => ({ scheduled_for: '2026-12-01' })),
  };
  const store = { messages: [], touched: 0 };
  const TTL = 30 * 60_000;
  const turns = [
    { user: `Hi, my number is ${msisdn}. I want to upgrade from Basic 10GB to something with more data, roaming in the EU matters.`, script: [call('get_account', { msisdn }), call('list_plans', { current_plan: 'Basic 10GB' }), say('For account MA-33019 you can move to Plus 30GB (24.99 EUR) or Unlimited (39.99 EUR); both include EU roaming.')] },
    { user: 'Let me think about it and check with my partner.', script: [say('Of course, take your time. Your options stay the same.')], gapMin: 41 },
    { user: "OK, we'll take the Plus one.", script: [say('Happy to help you change your plan! Could you tell me your phone number and which plan you currently have?')] },
  ];
  for (const t of turns) {
    if (Date.now() - store.touched > TTL) store.messages = []; // the app's memory store evicts idle sessions
    store.messages.push({ role: 'user', content: t.user });
    const r = await turn('/api/chat', { model: scripted(t.script), system: 'You are a mobile carrier support agent.', messages: store.messages, tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId) });
    store.messages = store.messages.concat(r.response.messages);
    store.touched = Date.now();
    if (t.gapMin) advance(t.gapMin * 60);
  }
  return { turns: turns.length };
};

// ===== failed_handoff =====

// H1: the sub-agent answers, but the delegation tool returns result.steps[0].text (the first step was a tool
// call, so it is ""); the supervisor never gets the market size and invents one.
S.handoff_wrong_step_text = async () => {
  const market = pick(['e-bike subscriptions in DACH', 'B2B invoice factoring in Poland', 'pet telehealth in the UK']);
  const sizer = new ToolLoopAgent({
    model: scripted([call('query_market_db', { market, year: 2026 }), say(`${market}: 2026 TAM EUR 410M, growing 14% a year; top 3 players hold 52%.`)]),
    instructions: 'You size markets from the market database. Give TAM, growth and concentration.',
    tools: { query_market_db: mkTool('Query the market database.', { market: z.string(), year: z.number() }, () => ({ tam_eur_m: 410, cagr: 0.14, top3_share: 0.52 })) },
    telemetry: telemetry('market_sizer'),
  });
  const r = await generateText({
    model: scripted([
      call('ask_market_sizer', { market }),
      say(`Investment memo: ${market} is a market of roughly EUR 2B with moderate growth and a fragmented field; we recommend a seed-stage entry.`),
    ]),
    system: 'You write investment memos. Get market sizing from the market_sizer agent; never guess numbers.',
    prompt: `Draft a short memo on ${market}.`,
    tools: {
      ask_market_sizer: tool({
        description: 'Ask the market sizing agent.',
        inputSchema: z.object({ market: z.string() }),
        execute: async ({ market: m }) => {
          const out = await sizer.generate({ prompt: `Size the market: ${m}` });
          return { sizing: out.steps[0].text }; // bug: the answer is in the last step
        },
      }),
    },
    stopWhen: isStepCount(5),
    telemetry: telemetry(pick(['memo_writer', 'investment_analyst', 'vc_associate'])),
  });
  return { text: r.text };
};

// H2: the model calls transfer_to_agent with an agent name the schema rejects; the SDK turns it into a tool
// error, no specialist ever starts, and the triage agent tells the user they were transferred.
S.handoff_invalid_transfer = async () => {
  const ticket = `T-${Math.floor(between(50000, 59999))}`;
  const specialist = new ToolLoopAgent({
    model: scripted([say('unused')]),
    instructions: 'You are the billing specialist.',
    telemetry: telemetry('billing_specialist'),
  });
  const r = await handled('/api/chat', () => generateText({
    model: scripted([
      call('get_ticket', { ticket_id: ticket }),
      call('transfer_to_agent', { agent: 'billing', summary: 'Customer charged twice for November' }),
      say("I've transferred you to our billing team; a billing specialist will take it from here and refund the duplicate charge."),
    ]),
    system: 'You are the triage agent. Transfer billing problems to billing_specialist and technical ones to tech_specialist.',
    prompt: `Ticket ${ticket}: I was charged twice for November. Please fix this.`,
    tools: {
      get_ticket: mkTool('Fetch a ticket.', { ticket_id: z.string() }, ({ ticket_id }) => ({ ticket_id, category: 'billing', charges: [29.0, 29.0] })),
      transfer_to_agent: tool({
        description: 'Transfer the conversation to a specialist agent.',
        inputSchema: z.object({ agent: z.enum(['billing_specialist', 'tech_specialist']), summary: z.string() }),
        execute: async ({ summary }) => (await specialist.generate({ prompt: summary })).text,
      }),
    },
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['triage_agent', 'frontline_router', 'support_dispatcher'])),
  }));
  return { text: r.text };
};

// H3: the sub-agent's tool fails (access denied), the sub-agent reports it could not do the job, and the
// supervisor does the delegated cleaning itself.
S.handoff_subagent_fails_caller_redoes = async () => {
  const file = pick(['s3://crm-exports/leads_2026_11.csv', 's3://crm-exports/contacts_q4.csv']);
  const cleanerTools = {
    load_csv: mkTool('Load a CSV.', { uri: z.string(), role: z.string().optional() }, ({ role }) => {
      if (role !== 'analytics-rw') throw new Error(`AccessDenied: role etl-readonly may not read ${file}`);
      return { rows: 18240, columns: ['email', 'name', 'company', 'created_at'] };
    }),
    dedupe_rows: mkTool('Deduplicate rows by key.', { uri: z.string(), key: z.string() }, () => ({ before: 18240, after: 16977 })),
    write_csv: mkTool('Write the cleaned CSV.', { uri: z.string() }, ({ uri }) => ({ uri, written: true })),
  };
  const cleaner = new ToolLoopAgent({
    model: scripted([call('load_csv', { uri: file }), call('load_csv', { uri: file }), say('I could not complete the cleaning: access to the file was denied (AccessDenied).')]),
    instructions: 'You clean CSV exports: load, deduplicate by email, write back with suffix _clean.',
    tools: cleanerTools,
    telemetry: telemetry('data_cleaner'),
  });
  const out = file.replace('.csv', '_clean.csv');
  const r = await generateText({
    model: scripted([
      call('delegate_cleaning', { uri: file }),
      call('load_csv', { uri: file, role: 'analytics-rw' }),
      call('dedupe_rows', { uri: file, key: 'email' }),
      call('write_csv', { uri: out }),
      say(`Cleaned: 18,240 rows down to 16,977 after removing duplicate e-mails; written to ${out}.`),
    ]),
    system: 'You coordinate data jobs. Delegate CSV cleaning to the data_cleaner agent.',
    prompt: `Deduplicate the lead export ${file} by e-mail.`,
    tools: {
      ...cleanerTools,
      delegate_cleaning: tool({
        description: 'Delegate CSV cleaning to the data_cleaner agent.',
        inputSchema: z.object({ uri: z.string() }),
        execute: async ({ uri }) => (await cleaner.generate({ prompt: `Clean ${uri}` })).text,
      }),
    },
    stopWhen: isStepCount(8),
    telemetry: telemetry(pick(['data_coordinator', 'ops_supervisor', 'crm_ops_agent'])),
  });
  return { text: r.text };
};

// ===== healthy twins =====

// N1: two re-wordings alternate (news vs filings phrasing), each search returns new documents; answer cited.
S.ok_alternating_queries_new_info = async () => {
  const co = pick(['Vantara Robotics', 'Helmsgate Bank', 'Orbis Foods']);
  const qa = `${co} layoffs 2026`;
  const qb = `${co} restructuring announcement`;
  let n = 0;
  const agent = new ToolLoopAgent({
    model: scripted([qa, qb, `${qa} Q3`, `${qb} 8-K`, `${qa} analyst`, `${qb} union`].map((q) => call('search_news', { query: q })).concat([
      say(`${co} cut about 6% of staff in 2026 in two rounds (Q2 and Q3), per its 8-K and three news reports [1]-[6]; the union has filed an objection.`),
    ])),
    instructions: 'You are a due-diligence researcher. Collect distinct sources before answering; cite them.',
    tools: { search_news: mkTool('Search news and filings.', { query: z.string() }, ({ query }) => {
      n += 1;
      return { results: [{ id: `doc_${n}`, title: `${co}: ${query} (${n})`, date: `2026-${String(3 + n).padStart(2, '0')}-1${n}`, snippet: `Fact #${n}: new detail about the restructuring.` }] };
    }) },
    stopWhen: isStepCount(12),
    telemetry: telemetry(pick(['dd_researcher', 'company_analyst', 'news_scout'])),
  });
  const r = await agent.generate({ prompt: `Has ${co} had layoffs this year? How many, and when?` });
  return { steps: r.steps.length };
};

// N2: the label call fails once with a carrier 502 (request id) and the identical retry succeeds; two other
// parcels get their labels in parallel afterwards.
S.ok_error_request_id_recovers = async () => {
  const carrier = pick(['DHL Express', 'UPS', 'GLS']);
  const orders = ['WO-310044', 'WO-310045', 'WO-310046'];
  let attempts = 0;
  const r = await generateText({
    model: scripted([
      call('validate_address', { order_id: orders[0] }),
      call('create_label', { order_id: orders[0], carrier, service: 'standard' }),
      call('create_label', { order_id: orders[0], carrier, service: 'standard' }),
      { calls: orders.slice(1).map((o) => ['create_label', { order_id: o, carrier, service: 'standard' }]) },
      say(`All three orders are labelled with ${carrier}: 1Z0044, 1Z0045, 1Z0046 (the first needed one retry after a carrier 502).`),
    ]),
    system: 'You are a fulfilment agent. Ship paid orders.',
    prompt: `Ship ${orders.join(', ')} standard with ${carrier}.`,
    tools: {
      validate_address: mkTool('Validate a shipping address.', { order_id: z.string() }, () => ({ valid: true })),
      create_label: mkTool('Create a shipping label.', { order_id: z.string(), carrier: z.string(), service: z.string() }, ({ order_id }) => {
        attempts += 1;
        if (attempts === 1) throw new Error(`CarrierAPIError: 502 Bad Gateway from ${carrier} label endpoint (request_id=req_${hex(12)})`);
        return { order_id, tracking: `1Z${order_id.slice(-4)}` };
      }, [2, 5]),
    },
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['fulfilment_agent', 'shipping_bot', 'warehouse_assistant'])),
  });
  return { steps: r.steps.length };
};

// N3: a long deploy watch: the event cursor advances, every poll brings new events, the rollout finishes after
// 9 polls; the app puts a 140-key request context on the agent span (over the 128-attribute limit).
S.ok_deploy_poll_finishes_wide = async () => {
  const svc = pick(['checkout-api', 'search-indexer', 'auth-gateway']);
  const flags = {};
  for (let i = 0; i < 138; i++) flags[`app.ctx.${['flag', 'quota', 'region', 'perm'][i % 4]}_${String(i).padStart(3, '0')}`] = i % 5 === 0 ? 'on' : 'off';
  operationExtras = { 'app.tenant.id': 'tnt_0913', 'app.user.role': 'sre', ...flags };
  const phases = ['canary 5%', 'canary 5% healthy', 'canary 25%', 'canary 25% healthy', 'rollout 50%', 'rollout 75%', 'rollout 100%', 'post-deploy checks', 'succeeded'];
  const script = [call('start_deploy', { service: svc, version: 'v2026.11.3' })];
  for (let i = 0; i < phases.length; i++) script.push(call('get_deploy_events', { deploy_id: 'dep_7781', after_event: i * 4 }));
  script.push(call('check_error_rate', { service: svc, window_min: 15 }));
  script.push(say(`${svc} v2026.11.3 is fully rolled out (canary, 25/50/75/100%) and the error rate is flat at 0.08%.`));
  let poll = 0;
  const agent = new ToolLoopAgent({
    model: scripted(script),
    instructions: 'You are a release assistant. Deploy, watch the rollout until it finishes, then verify health.',
    tools: {
      start_deploy: mkTool('Start a deploy.', { service: z.string(), version: z.string() }, () => ({ deploy_id: 'dep_7781' })),
      get_deploy_events: mkTool('Deploy events after a cursor.', { deploy_id: z.string(), after_event: z.number() }, ({ after_event }) => {
        const phase = phases[Math.min(poll++, phases.length - 1)];
        return { events: [{ id: after_event + 4, phase }], status: phase === 'succeeded' ? 'succeeded' : 'in_progress', next_event: after_event + 4 };
      }, [30, 90]),
      check_error_rate: mkTool('Error rate.', { service: z.string(), window_min: z.number() }, () => ({ error_rate: 0.0008 })),
    },
    stopWhen: isStepCount(30),
    telemetry: telemetry(pick(['release_assistant', 'deploy_watcher', 'sre_copilot'])),
  });
  const r = await agent.generate({ prompt: `Deploy ${svc} v2026.11.3 and tell me when it is fully out.` });
  return { steps: r.steps.length };
};

// N4: same refund flow as R1 with pruneMessages, but the app pins the policy into the system prompt; the model
// requests manager approval for the $349 refund.
S.ok_prune_pins_policy = async () => {
  const order = `ORD-${Math.floor(between(700000, 799999))}`;
  let pinned = '';
  const base = 'You are a returns agent. Follow the refund policy returned by get_refund_policy.';
  const r = await generateText({
    model: scripted([
      call('get_refund_policy', { region: 'US' }),
      call('lookup_order', { order_id: order }),
      call('get_customer_history', { customer_id: 'cus_4402' }),
      call('check_return_status', { order_id: order }),
      call('request_approval', { order_id: order, amount_usd: 349, reason: 'returned, opened but undamaged' }),
      say(`Your return for ${order} is in. Refunds over $200 need a manager's approval; I've requested it and you'll hear back within one business day.`),
    ]),
    system: base,
    prompt: `I returned the headphones from order ${order} (customer cus_4402). Please refund me.`,
    tools: refundTools(349),
    onStepFinish: ({ toolResults }) => {
      for (const t of toolResults) if (t.toolName === 'get_refund_policy') pinned = `\nPinned policy ${t.output.policy}: ${t.output.rule}`;
    },
    prepareStep: ({ messages }) => ({ system: base + pinned, messages: pruneMessages({ messages, toolCalls: 'before-last-4-messages', emptyMessages: 'remove' }) }),
    stopWhen: isStepCount(10),
    telemetry: telemetry(pick(['returns_agent', 'refund_assistant', 'care_agent'])),
  });
  return { steps: r.steps.length };
};

// N5: a planner call with its own system prompt, then the answer step switches to a formatter system prompt
// that carries the original instructions; the reply is in German with VAT-inclusive prices.
S.ok_system_swap_keeps_instructions = async () => {
  const plz = pick(['20095', '70173', '04109']);
  const rules = 'Antworte IMMER auf Deutsch. Nenne Preise IMMER inklusive 19 % MwSt.';
  const plan = await generateText({
    model: scripted([say('1) Tarife für PLZ abrufen; 2) Zählerstand prüfen; 3) günstigsten Tarif inkl. MwSt. nennen.')]),
    system: 'You are a planner. List the steps needed; do not answer.',
    prompt: `Kunde fragt nach dem günstigsten Tarif, PLZ ${plz}, 3200 kWh.`,
    telemetry: telemetry('request_planner'),
  });
  let toolsDone = 0;
  const r = await generateText({
    model: scripted([
      { calls: [['get_tariffs', { postcode: plz, kwh_per_year: 3200 }], ['get_meter_reading', { contract: 'V-61844' }]] },
      say('Am günstigsten ist „Strom Flex 12“: 34,99 ct/kWh und 11,78 € Grundgebühr pro Monat (inkl. 19 % MwSt.), rund 105 € im Monat bei 3.200 kWh.'),
    ]),
    system: `Du bist der Kundenservice der Stadtwerke. ${rules}\nPlan: ${plan.text}`,
    prompt: `Welcher Tarif ist für mich am günstigsten? PLZ ${plz}, ca. 3200 kWh, Vertrag V-61844.`,
    tools: {
      get_tariffs: mkTool('Tariffs (net prices, excl. VAT).', { postcode: z.string(), kwh_per_year: z.number() }, () => ({ tariffs: [{ name: 'Strom Flex 12', ct_per_kwh_net: 29.4, base_fee_eur_month_net: 9.9 }] })),
      get_meter_reading: mkTool('Latest meter reading.', { contract: z.string() }, () => ({ kwh_last_12m: 3170 })),
    },
    onStepFinish: ({ toolCalls }) => { toolsDone += toolCalls.length; },
    prepareStep: () => (toolsDone >= 2 ? { system: `You are a response formatter. Turn the tool results into a short, friendly answer. ${rules}`, activeTools: [] } : {}),
    stopWhen: isStepCount(6),
    telemetry: telemetry(pick(['tarif_berater', 'utility_support', 'energy_advisor'])),
  });
  return { text: r.text };
};

// N6: multi-turn dinner booking with the same fact memory, which keeps the allergy; search_restaurants once per
// turn with new arguments; in turn 3 the agent asks for the booking name, which the user never gave (content off).
S.ok_fact_memory_keeps_allergy = async () => {
  const city = pick(['Utrecht', 'Porto', 'Graz']);
  const fnId = pick(['dinner_planner', 'event_concierge', 'table_booker']);
  const tools = {
    search_restaurants: mkTool('Search restaurants.', { city: z.string(), date: z.string(), party: z.number(), notes: z.string().optional() }, ({ date }) => ({ date, options: [{ id: 'r_groen', name: 'Groen', menu: 'vegetarian, nut-free kitchen' }, { id: 'r_wok', name: 'Wok & Peanut', menu: 'peanut-heavy' }] })),
    book_table: mkTool('Book a table.', { restaurant_id: z.string(), date: z.string(), time: z.string(), party: z.number(), name: z.string() }, ({ restaurant_id }) => ({ booking: `TB-${restaurant_id}-${hex(4)}` })),
  };
  const allergy = 'HARD CONSTRAINT: one guest has a severe peanut allergy; vegetarian-friendly';
  const turns = [
    { user: `Dinner for 8 in ${city} on Dec 18; one guest has a severe peanut allergy, vegetarian-friendly please.`, script: [call('search_restaurants', { city, date: '2026-12-18', party: 8, notes: 'peanut allergy, vegetarian' }), say('Groen has a nut-free vegetarian kitchen and room for 8 on Dec 18.')], facts: `city=${city}; date=2026-12-18; party=8; ${allergy}` },
    { user: 'Could we do Dec 19 instead?', script: [call('search_restaurants', { city, date: '2026-12-19', party: 8, notes: 'peanut allergy, vegetarian' }), say('Groen also has a table for 8 on Dec 19 (Wok & Peanut is free too, but not safe with the allergy).')], facts: `city=${city}; date=2026-12-19; party=8; ${allergy}; choice=Groen` },
    { user: 'Great, book Groen at 19:30.', script: [say('Happy to. Under which name should I make the reservation?')], facts: `city=${city}; date=2026-12-19; party=8; ${allergy}; choice=Groen 19:30; waiting for booking name` },
    { user: 'Under Keller.', script: [call('book_table', { restaurant_id: 'r_groen', date: '2026-12-19', time: '19:30', party: 8, name: 'Keller' }), say('Booked: Groen, Dec 19 at 19:30, 8 people, under Keller; I noted the peanut allergy.')] },
  ];
  let facts = '';
  let last = [];
  for (const t of turns) {
    const r = await turn('/api/chat', {
      model: scripted(t.script),
      system: `You plan group dinners and book tables.${facts ? `\nKnown facts about this user: ${facts}` : ''}`,
      messages: [...last, { role: 'user', content: t.user }], tools, stopWhen: isStepCount(6), telemetry: telemetry(fnId),
    });
    last = [{ role: 'user', content: t.user }, ...r.response.messages];
    if (t.facts) {
      const m = await turn('/internal/memory', { model: scripted([say(t.facts)]), system: 'Extract durable facts about the user and their request as key=value pairs separated by semicolons. Keep every constraint.', messages: last, telemetry: telemetry('memory_writer') });
      facts = m.text;
    }
  }
  return { turns: turns.length };
};

// N7: the supervisor delegates to two sub-agents in parallel (one step, two tool calls); each gets the
// supervisor's history under its own instructions; both answers are used.
S.ok_parallel_subagents = async () => {
  const product = pick(['a self-serve BI tool', 'a carbon accounting SaaS', 'an AI meeting recorder']);
  const mk = (name, instr, toolName, result, answer) => new ToolLoopAgent({
    model: scripted([call(toolName, { product }), say(answer)]),
    instructions: instr,
    tools: { [toolName]: mkTool(`${toolName} backend.`, { product: z.string() }, () => result) },
    telemetry: telemetry(name),
  });
  const comp = mk('competitor_analyst', 'You analyse competitors. Use the conversation for context.', 'list_competitors', { competitors: ['A', 'B', 'C'] }, 'Three direct competitors (A, B, C); B leads on price.');
  const price = mk('pricing_analyst', 'You recommend pricing. Use the conversation for context.', 'get_price_points', { median_seat_eur: 24 }, 'Median market price is EUR 24/seat/month; launch at EUR 19 with annual discount.');
  const viaAgent = (agent) => tool({
    description: 'Ask a specialist agent (it sees this conversation).',
    inputSchema: z.object({ question: z.string() }),
    execute: async ({ question }, { messages }) => (await agent.generate({ messages: [...messages, { role: 'user', content: question }] })).text,
  });
  const r = await generateText({
    model: scripted([
      { calls: [['ask_competitor_analyst', { question: 'Who are the main competitors?' }], ['ask_pricing_analyst', { question: 'What price should we launch at?' }]] },
      say(`Go-to-market for ${product}: three direct competitors (B is cheapest); launch at EUR 19/seat/month, below the EUR 24 median.`),
    ]),
    system: 'You are a product strategy lead. Consult the analysts, then write a short recommendation.',
    prompt: `We are launching ${product} in Germany. Give me competitors and a launch price.`,
    tools: { ask_competitor_analyst: viaAgent(comp), ask_pricing_analyst: viaAgent(price) },
    stopWhen: isStepCount(5),
    telemetry: telemetry(pick(['strategy_lead', 'gtm_planner', 'product_supervisor'])),
  });
  return { text: r.text.slice(0, 40) };
};

// N8: toolChoice 'required' with a final_answer tool (no execute) and stopWhen hasToolCall('final_answer'):
// the documented "forced tool use" pattern; four different tools, then final_answer (content off).
S.ok_forced_tool_final_answer = async () => {
  const who = pick(['Priya Nair', 'Tom Berger', 'Ana Lima']);
  const agent = new ToolLoopAgent({
    model: scripted([
      call('get_candidate', { name: who }),
      call('find_meeting_slots', { attendees: [who, 'hiring-panel@corp.example'], duration_min: 45, week: '2026-W49' }),
      call('book_room', { slot: '2026-12-02T10:00', size: 4 }),
      call('send_invite', { slot: '2026-12-02T10:00', attendees: [who, 'hiring-panel@corp.example'] }),
      call('final_answer', { summary: `Onsite with ${who} booked for Tue Dec 2, 10:00-10:45, room Elbe; invites sent.` }),
    ]),
    instructions: 'You are a recruiting coordinator. Schedule interviews; finish by calling final_answer.',
    toolChoice: 'required',
    stopWhen: hasToolCall('final_answer'),
    tools: {
      get_candidate: mkTool('Candidate profile.', { name: z.string() }, () => ({ stage: 'onsite', timezone: 'Europe/Berlin' })),
      find_meeting_slots: mkTool('Find common free slots.', { attendees: z.array(z.string()), duration_min: z.number(), week: z.string() }, () => ({ slots: ['2026-12-02T10:00', '2026-12-03T14:00'] })),
      book_room: mkTool('Book a room.', { slot: z.string(), size: z.number() }, () => ({ room: 'Elbe' })),
      send_invite: mkTool('Send a calendar invite.', { slot: z.string(), attendees: z.array(z.string()) }, () => ({ sent: true })),
      final_answer: tool({ description: 'Give the final answer to the user.', inputSchema: z.object({ summary: z.string() }) }),
    },
    telemetry: telemetry(pick(['interview_scheduler', 'recruiting_coordinator', 'calendar_agent'])),
  });
  const r = await agent.generate({ prompt: `Schedule a 45 minute onsite interview with ${who} next week (W49).` });
  return { steps: r.steps.length, finishReason: r.finishReason };
};

// N9: the TypeScript fix twin of L4: edit + typecheck in parallel each step, but the error count falls 3 -> 2 ->
// 1 -> 0 with different messages each time; done.
S.ok_typecheck_progress = async () => {
  const outputs = [
    { exit_code: 2, errors: 3, output: "src/api/client.ts(88,17): error TS2345 ...\nsrc/config.ts(12,3): error TS2322 ...\nsrc/env.d.ts(4,1): error TS1046 ..." },
    { exit_code: 2, errors: 2, output: "src/config.ts(12,3): error TS2322: Type 'number' is not assignable to type 'string'.\nsrc/env.d.ts(4,1): error TS1046 ..." },
    { exit_code: 2, errors: 1, output: "src/env.d.ts(4,1): error TS1046: Top-level declarations in .d.ts files must start with 'declare'." },
    { exit_code: 0, errors: 0, output: 'Found 0 errors.' },
  ];
  let runs = 0;
  const fixes = [['src/api/client.ts', 'default baseUrl to empty string and assert'], ['src/config.ts', 'String(port)'], ['src/env.d.ts', 'declare const API_URL']];
  const script = [call('run_typecheck', { project: 'tsconfig.json' })];
  for (const [f, c] of fixes) script.push({ calls: [['edit_file', { path: f, change: c }], ['run_typecheck', { project: 'tsconfig.json' }]] });
  script.push(say('Typecheck is green: fixed the optional baseUrl in client.ts, the port type in config.ts and the missing declare in env.d.ts.'));
  const r = await generateText({
    model: scripted(script),
    system: 'You are a coding agent for a TypeScript monorepo. Make `npm run typecheck` pass with minimal edits.',
    prompt: 'The typecheck job fails on main since the env refactor. Fix it.',
    tools: {
      edit_file: mkTool('Edit a file.', { path: z.string(), change: z.string() }, ({ path }) => ({ path, ok: true })),
      run_typecheck: mkTool('Run tsc --noEmit.', { project: z.string() }, () => outputs[Math.min(runs++, 3)], [6, 12]),
    },
    toolCallConcurrency: 1,
    stopWhen: isStepCount(12),
    telemetry: telemetry(pick(['ts_fixer', 'code_agent', 'build_doctor'])),
  });
  return { steps: r.steps.length };
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
