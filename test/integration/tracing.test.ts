import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bookingWorkflowId } from '../../domain/booking-ids.js';
import { urlTemplate } from '../../infra/telemetry/client-span.js';
import { json, travellerOf } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { spanTree, startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { startStack, type Stack } from '../support/stack.js';

// OTLP's span kinds (the API's plus one).
const SERVER = 2;
const CLIENT = 3;

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let stack: Stack;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** What a printed span says: its name, and for a call out, whom it called and the answer. */
const describeSpan = (span: ReceivedSpan) =>
  span.kind === CLIENT ? `${span.name}  [${span.attributes['peer.service']} ${span.attributes['http.response.status_code'] ?? span.attributes['error.type']}]` : span.name;

const count = (names: readonly string[]) => names.reduce((all, name) => all.set(name, (all.get(name) ?? 0) + 1), new Map<string, number>());

describe('one booking traced from the HTTP request to every Stripe and supplier call', () => {
  it('exports one trace over OTLP, a tree rooted at the request: the workflow, every activity run, every Stripe and supplier call', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    // Counted beside the tracing, from the booking's POST on: every request the Stripe SDK sends, every supplier call.
    const stripeCalls: string[] = [];
    const onStripeRequest = (event: Stripe.RequestEvent) => stripeCalls.push(`${event.method} ${urlTemplate(event.path)}`);
    stack.stripe.on('request', onStripeRequest);
    const fetches = vi.spyOn(globalThis, 'fetch');
    let fetched: typeof fetches.mock.calls = [];
    const key = randomUUID();
    const workflowId = bookingWorkflowId(traveller.userId, key);
    try {
      const response = await traveller.book(body, key);
      expect(response.status).toBe(202);
      expect((await traveller.settled((await json(response)).bookingId as string)).status).toBe('CONFIRMED');
      await stack.temporal.workflow.getHandle(workflowId).result();
    } finally {
      stack.stripe.off('request', onStripeRequest);
      // Restoring clears the record.
      fetched = [...fetches.mock.calls];
      fetches.mockRestore();
    }
    const supplierCalls = fetched
      .map(([input, init]) => ({ url: new URL(input instanceof Request ? input.url : String(input)), method: init?.method ?? 'GET' }))
      .filter(({ url }) => url.origin === new URL(stack.sandboxUrl).origin)
      .map(({ url, method }) => `${method} ${urlTemplate(url.pathname)}`);
    // The activities the saga ran, each attempt a run: from the workflow's history, not from the spans.
    const events = (await stack.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]));
    const activityRuns = events
      .filter((e) => e.activityTaskStartedEventAttributes)
      .flatMap((e) => Array<string>(e.activityTaskStartedEventAttributes!.attempt ?? 1).fill(`RunActivity:${scheduled.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId))}`));
    // The local activities (the saga's settled status writes) leave a marker, not a scheduled task: core's
    // bookkeeping in it, plain JSON, names the activity and its last attempt.
    const localActivityRuns = events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .flatMap((e) => {
        const data = e.markerRecordedEventAttributes!.details?.data?.payloads?.[0]?.data;
        const { activity_type: type, attempt } = JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { activity_type: string; attempt: number };
        return Array<string>(attempt).fill(`RunActivity:${type}`);
      });

    // The workflow's own spans reach the exporter through the worker's sink, after the activation that ended them.
    await eventually(
      async () => {
        await stack.tracing.forceFlush();
        return receiver.spans().filter((span) => span.name === 'POST /api/v1/bookings' || span.attributes.workflowId === workflowId).map((span) => span.name);
      },
      (names) => names.includes('POST /api/v1/bookings') && names.includes('RunWorkflow:bookingWorkflow'),
      { what: "the booking request's and its workflow's spans at the collector" },
    );
    const root = receiver.spans().find((span) => span.name === 'POST /api/v1/bookings' && span.attributes['http.response.status_code'] === 202);
    const trace = receiver.spans().filter((span) => span.traceId === root!.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
    process.stdout.write(`\none booking's trace (${trace.length} spans):\n${spanTree(trace, root!, describeSpan).join('\n')}\n\n`);

    // A tree rooted at the HTTP request: one root, every other span's parent in the same trace.
    expect(root).toMatchObject({ kind: SERVER, service: 'travelconnect-test' });
    expect(root!.parentSpanId).toBeUndefined();
    expect(trace.filter((span) => !span.parentSpanId || !byId.has(span.parentSpanId)).map((span) => span.name)).toEqual(['POST /api/v1/bookings']);

    // The request started the workflow, which ran under that start.
    const start = trace.find((span) => span.name === 'StartWorkflow:bookingWorkflow');
    const run = trace.find((span) => span.name === 'RunWorkflow:bookingWorkflow');
    expect(start && parentOf(start)?.spanId).toBe(root!.spanId);
    expect(run && parentOf(run)?.spanId).toBe(start?.spanId);
    expect(run?.attributes.workflowId).toBe(workflowId);

    // Every activity run the history shows, each under the workflow's start of it.
    const runs = trace.filter((span) => span.name.startsWith('RunActivity:'));
    expect(activityRuns.length).toBeGreaterThan(4);
    expect(localActivityRuns).toContain('RunActivity:setBookingStatus');
    expect(count(runs.map((span) => span.name))).toEqual(count([...activityRuns, ...localActivityRuns]));
    for (const span of runs) {
      const scheduling = parentOf(span);
      expect(scheduling?.name).toBe(span.name.replace('RunActivity:', 'StartActivity:'));
      expect(scheduling && parentOf(scheduling)?.spanId).toBe(run?.spanId);
      expect(span.attributes.temporalWorkflowId).toBe(workflowId);
    }

    // Every Stripe request and every supplier call, each a client span under the activity (or the request) that made it.
    const clients = trace.filter((span) => span.kind === CLIENT);
    const stripeSpans = clients.filter((span) => span.attributes['peer.service'] === 'stripe');
    const supplierSpans = clients.filter((span) => span.attributes['peer.service'] !== 'stripe');
    expect(stripeCalls.length).toBeGreaterThanOrEqual(3);
    expect(supplierCalls.length).toBeGreaterThanOrEqual(3);
    expect(count(stripeSpans.map((span) => span.name))).toEqual(count(stripeCalls));
    expect(count(supplierSpans.map((span) => span.name))).toEqual(count(supplierCalls));
    for (const span of clients) expect(parentOf(span)?.name, span.name).toMatch(/^(RunActivity:|POST \/api\/v1\/bookings$)/);

    // Nothing a traveller or Stripe gave us left the process in a span.
    const sent = receiver.bodies().join('\n');
    const passenger = body.passengers[0] as Record<string, string>;
    for (const secret of [passenger.passportNumber!, passenger.familyName!, body.contact.email, body.contact.phone, body.paymentMethodId, stack.config.stripe.secretKey, traveller.auth.authorization.replace(/^Bearer /, '')]) {
      expect(sent, 'a span carries a traveller\'s or a secret value').not.toContain(secret);
    }
    expect(sent).not.toMatch(/pi_[A-Za-z0-9]+_secret_/);
  });
});
