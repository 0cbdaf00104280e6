import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking, User } from '../../infra/db/entities.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { json, travellerOf } from '../support/booking-client.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';

// Passenger PII is decrypted only by the activity that hands it to a provider (README.md "Data protection, audit, operations").
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const letters = () => Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
const passportNumber = () => `P${randomUUID().replaceAll('-', '').slice(0, 8).toUpperCase()}`;

/** Two travellers with details no other booking shares, so a search for them finds only theirs. */
function party() {
  return [
    { givenName: 'Ada', familyName: `Lovelace${letters()}`, dateOfBirth: '1985-12-10', passportNumber: passportNumber(), passportCountry: 'GB', nationality: 'GB' },
    { givenName: 'Grace', familyName: `Hopper${letters()}`, dateOfBirth: '1966-02-03', passportNumber: passportNumber(), passportCountry: 'US', nationality: 'US' },
  ];
}
type Party = ReturnType<typeof party>;

const randomDay = () => new Date(Date.UTC(2027, 0, 1) + Math.floor(Math.random() * 330) * 86_400_000).toISOString().slice(0, 10);

async function rowOf(bookingId: string) {
  return stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId }, { populate: ['items'] });
}

/** The booking's history exactly as the Temporal server holds it, nothing decoded: its JSON, plus every payload's bytes as text. */
async function rawHistory(workflowId: string) {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const json = JSON.stringify(history); // bytes come out base64: read them back, or a plaintext payload would go unseen
  const asText = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('latin1') : '');
  const bytes: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data') bytes.push(asText(value));
    if (key === 'metadata' && value && typeof value === 'object') bytes.push(...Object.values(value).map(asText));
    return value;
  });
  return { events: history.events ?? [], text: [json, ...bytes].join('\n') };
}

/** What each confirmHold call returned, decoded through the codec as the worker reads it. */
async function confirmHoldResults(events: Awaited<ReturnType<typeof rawHistory>>['events']) {
  const scheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'confirmHold').map((e) => String(e.eventId)),
  );
  const codec = await createEncryptionCodec(stack.keys);
  const results: unknown[] = [];
  for (const event of events) {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(String(completed.scheduledEventId))) continue;
    const [payload] = await codec.decode((completed.result?.payloads ?? []) as Payload[]);
    results.push(defaultPayloadConverter.fromPayload(payload!));
  }
  return results;
}

function expectNoPii(text: string, travellers: Party, where: string) {
  for (const t of travellers) {
    for (const value of [t.passportNumber, t.dateOfBirth, t.familyName]) expect(text, `${where}: ${value}`).not.toContain(value);
  }
}

describe('the traveller manifest', () => {
  it('reaches the flight provider in plaintext, and no Temporal history or activity result holds it', async () => {
    const traveller = await travellerOf(stack);
    const travellers = party();
    const body = await traveller.bookingBody({ passengers: travellers }, { adults: '2' });
    const { bookingId } = await json(await traveller.book(body));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');

    // The provider's PNR holds exactly the travellers submitted, as a real supplier's retrieve shows them.
    const row = await rowOf(bookingId);
    const holdId = row.items.getItems()[0]!.holdId!;
    const pnr = await json(await fetch(`${stack.sandboxUrl}/v1/holds/${holdId}`));
    expect(pnr.state).toBe('CONFIRMED');
    expect(pnr.passengers).toEqual(
      travellers.map((t) => ({
        given_name: t.givenName,
        family_name: t.familyName,
        date_of_birth: t.dateOfBirth,
        passport_number: t.passportNumber,
        passport_country: t.passportCountry,
        nationality: t.nationality,
      })),
    );

    // Temporal holds none of it: not in the raw history, and not in confirmHold's result once decoded.
    const { events, text } = await rawHistory(row.workflowId);
    expect(events.length).toBeGreaterThan(10);
    // Payload bytes are searched as text, not skipped: the plain search-attribute values show through.
    expect(text).toContain('binary/encrypted');
    expect(text).toContain('"CONFIRMED"');
    expectNoPii(text, travellers, 'raw history');
    expect(await confirmHoldResults(events)).toEqual([{ confirmationCode: row.items.getItems()[0]!.confirmationCode }]);
  });

  it('gives the hotel the guests\u2019 names and nothing more', async () => {
    const traveller = await travellerOf(stack);
    const travellers = party();
    const day = randomDay();
    const checkOut = new Date(Date.parse(day) + 2 * 86_400_000).toISOString().slice(0, 10);
    const [flight] = (await traveller.search({ departureDate: day, adults: '2' })).offers;
    const hotels = await stack.app.request(`/api/v1/search/hotels?city=LON&checkIn=${day}&checkOut=${checkOut}&guests=2`, { headers: traveller.auth });
    const [hotel] = (await json(hotels)).offers as Array<{ offerId: string; price: { amount: string; currency: string } }>;
    const body = await traveller.bookingBody({
      offers: [flight!, hotel!].map((o) => ({ offerId: o.offerId, expectedPrice: o.price })),
      passengers: travellers,
    });
    const { bookingId } = await json(await traveller.book(body));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');

    const row = await rowOf(bookingId);
    const reservationId = row.items.getItems().find((i) => i.kind === 'hotel')!.holdId!;
    const { reservation } = await json(await fetch(`${stack.config.providers.hotelUrl}/reservations/${reservationId}`));
    expect(reservation.status).toBe('BOOKED');
    expect(reservation.leadGuest).toEqual({ givenName: 'Ada', familyName: travellers[0]!.familyName });
    expect(reservation.guests).toEqual([{ givenName: 'Grace', familyName: travellers[1]!.familyName }]);
    const held = JSON.stringify(reservation);
    for (const t of travellers) {
      expect(held).not.toContain(t.passportNumber);
      expect(held).not.toContain(t.dateOfBirth);
    }
    // The flight in the same booking was ticketed with the full manifest.
    const flightHold = row.items.getItems().find((i) => i.kind === 'flight')!.holdId!;
    expect((await json(await fetch(`${stack.sandboxUrl}/v1/holds/${flightHold}`))).passengers).toHaveLength(2);
  });

  it('fails the booking for good, undoing hold and payment, when the data key was destroyed before ticketing', async () => {
    const traveller = await travellerOf(stack);
    const travellers = party().slice(0, 1);
    const body = await traveller.bookingBody({ passengers: travellers, paymentMethodId: await threeDSecureCard(stack.stripe) });
    const { bookingId } = await json(await traveller.book(body));
    await traveller.reaches(bookingId, 'AWAITING_PAYMENT');

    // Crypto-shredded while the saga waits for 3-D Secure, as erasure or a restored backup would leave it.
    await stack.orm.em.fork().nativeUpdate(User, { id: traveller.userId }, { wrappedDataKey: null });
    const { intent } = await probesOf(stack).paymentOf(bookingId);
    const stripe = { apiUrl: stack.config.stripe.apiUrl!, secretKey: stack.config.stripe.secretKey, client: stack.stripe };
    await completeChallenge(stripe, intent.id, true);

    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('FAILED');
    expect(booking.failure.code).toBe('PASSENGER_DATA_ERASED');
    expect(booking.items[0].state).toBe('RELEASED');
    const { hold } = await probesOf(stack).holdOf(bookingId);
    expect(hold?.state).toBe('RELEASED');
    expect((await json(await fetch(`${stack.sandboxUrl}/v1/holds/${(await rowOf(bookingId)).items.getItems()[0]!.holdId}`))).passengers).toBeNull();
    expect((await probesOf(stack).paymentOf(bookingId)).intent.status).toBe('canceled');

    // One try, not a retry loop: the failure is typed and non-retryable, and names no traveller.
    const { events, text } = await rawHistory((await rowOf(bookingId)).workflowId);
    const failed = events.flatMap((e) => (e.activityTaskFailedEventAttributes ? [e.activityTaskFailedEventAttributes] : []));
    expect(failed.map((f) => [f.failure?.applicationFailureInfo?.type, f.failure?.applicationFailureInfo?.nonRetryable])).toEqual([
      ['PASSENGER_DATA_ERASED', true],
    ]);
    const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(failed[0]!.scheduledEventId));
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
    expectNoPii(text, travellers, 'raw history');
  });
});
