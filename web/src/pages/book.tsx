import { useEffect, useRef, useState } from 'preact/hooks';
import { createBookingSchema } from '../../../domain/booking.schemas';
import { api, money, newKey, problemText } from '../api/client';
import { draft, type PassengerDraft, type PendingPayment } from '../draft';
import { navigate } from '../router';
import { useUser } from '../session';
import { loadStripe, type CardElement, type PaymentMethod, type StripeJs } from '../stripe';
import { errorsByPath, Field, Notice, Page } from '../ui';

const PASSENGER_FIELDS: Array<[keyof PassengerDraft, string, string | undefined, string | undefined]> = [
  ['givenName', 'Given name', 'given-name', undefined],
  ['familyName', 'Family name', 'family-name', undefined],
  ['dateOfBirth', 'Date of birth', 'bday', 'date'],
  ['passportNumber', 'Passport number', 'off', undefined],
  ['passportCountry', 'Passport country (2 letters)', 'off', undefined],
  ['nationality', 'Nationality (2 letters)', 'off', undefined],
];

// Answers after which paying again is a new payment: the API booked (2xx) or refused it for good (4xx).
// After no answer, a 5xx, a lapsed session (401), a key still in use (409) or a rate limit, it is the same one.
const settled = (status: number) => status < 500 && ![401, 408, 409, 429].includes(status);
const AGAIN = 'Pay again: it is sent as the same payment, so you are not charged twice.';
// A payment still waiting after this long gets no answer: it ends as a lost one, to be sent again.
const PAYMENT_TIMEOUT_MS = 30_000;

/**
 * What to send: while a payment for this offer has no definitive answer, its key, with this request
 * (exactly the one sent, card included, when nothing changed); otherwise a new payment.
 */
function paymentFor(offerId: string, request: object, paymentMethod: PaymentMethod): PendingPayment {
  const { brand, last4, exp_month, exp_year } = paymentMethod.card ?? {};
  const attempt = JSON.stringify([request, brand, last4, exp_month, exp_year]);
  const pending = draft.payment;
  if (pending?.offerId === offerId) return pending.attempt === attempt ? pending : { ...pending, attempt, paymentMethodId: paymentMethod.id };
  return { offerId, attempt, idempotencyKey: newKey(), paymentMethodId: paymentMethod.id };
}

const problemCode = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

/** Travellers, contact and card, checked with the contract's own field rules before anything is sent. */
export function BookPage() {
  const user = useUser();
  const offer = draft.offer;
  const [passengers, setPassengers] = useState(draft.passengers);
  const [contact, setContact] = useState(draft.contact.email ? draft.contact : { email: user?.email ?? '', phone: '' });
  const [notes, setNotes] = useState(draft.notes);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState('');
  // The API already holds another request under this payment's key: the earlier one reached it.
  const [mayHavePaid, setMayHavePaid] = useState(false);
  const [busy, setBusy] = useState(false);
  // Read by the guard at once, before a re-render could show `busy` (a double click or a second Enter).
  const paying = useRef(false);
  const cardHost = useRef<HTMLDivElement>(null);
  const stripe = useRef<{ js: StripeJs; card: CardElement } | null>(null);

  useEffect(() => {
    if (!offer || !cardHost.current) return;
    let card: CardElement | undefined;
    loadStripe()
      .then((js) => {
        card = js.elements().create('card');
        card.mount(cardHost.current!);
        stripe.current = { js, card };
      })
      .catch((error: Error) => setFailure(error.message));
    return () => card?.destroy();
  }, [offer?.offerId]);

  // Kept as typed, so that another card or signing in again does not ask for them twice.
  useEffect(() => {
    draft.passengers = passengers;
    draft.contact = contact;
    draft.notes = notes;
  }, [passengers, contact, notes]);

  if (!offer) {
    return (
      <Page title="Book">
        <p>Choose an offer first. <a href="/">Search flights and hotels</a>.</p>
      </Page>
    );
  }

  // An edited field's old error goes; the rest stay until the next check.
  const clearError = (path: string) => errors[path] && setErrors(({ [path]: _, ...rest }) => rest);
  const setPassenger = (index: number, key: keyof PassengerDraft) => (value: string) => {
    clearError(`passengers.${index}.${key}`);
    setPassengers(passengers.map((p, i) => (i === index ? { ...p, [key]: key === 'passportCountry' || key === 'nationality' ? value.toUpperCase() : value } : p)));
  };
  const setContactField = (key: 'email' | 'phone') => (value: string) => {
    clearError(`contact.${key}`);
    setContact({ ...contact, [key]: value });
  };

  async function pay(event: Event) {
    event.preventDefault();
    if (!offer || paying.current) return;
    setFailure('');
    setMayHavePaid(false);
    const request = {
      offers: [{ offerId: offer.offerId, expectedPrice: offer.price }],
      passengers,
      contact,
      ...(notes.trim() ? { notes } : {}),
    };
    const checked = createBookingSchema.safeParse({ ...request, paymentMethodId: 'pm_checked_later' });
    const fieldErrors = checked.success ? {} : errorsByPath(checked.error.issues);
    setErrors(fieldErrors);
    if (Object.keys(fieldErrors).length > 0) {
      document.getElementById(Object.keys(fieldErrors)[0]!.replaceAll('.', '-'))?.focus();
      return;
    }
    if (!stripe.current) return setFailure('The card form is still loading.');
    paying.current = true;
    setBusy(true);
    try {
      // The card goes to Stripe alone; this API only ever sees the PaymentMethod's id.
      const { paymentMethod, error } = await stripe.current.js.createPaymentMethod({ type: 'card', card: stripe.current.card });
      if (!paymentMethod) return setFailure(error?.message ?? 'The card was not accepted.');
      const payment = paymentFor(offer.offerId, request, paymentMethod);
      draft.payment = payment;
      const answer = await api.POST('/api/v1/bookings', {
        params: { header: { 'idempotency-key': payment.idempotencyKey } },
        body: { ...request, paymentMethodId: payment.paymentMethodId },
        signal: AbortSignal.timeout(PAYMENT_TIMEOUT_MS),
      }).catch(() => null);
      if (!answer) return setFailure(`The answer to your payment did not reach us. ${AGAIN}`);
      if (settled(answer.response.status)) delete draft.payment;
      if (problemCode(answer.error) === 'IDEMPOTENCY_KEY_REUSED') return setMayHavePaid(true);
      if (!answer.data) return setFailure(answer.response.status >= 500 ? `${problemText(answer.error)} ${AGAIN}` : problemText(answer.error));
      navigate(`/bookings/${answer.data.bookingId}`);
    } finally {
      paying.current = false;
      setBusy(false);
    }
  }

  return (
    <Page title="Travellers and payment">
      <p class="card">
        {offer.kind === 'hotel' ? 'Hotel' : 'Flight'} from {offer.provider}: <strong>{money(offer.price)}</strong>
      </p>
      <form onSubmit={(event) => void pay(event)} noValidate>
        {passengers.map((passenger, index) => (
          <fieldset key={index}>
            <legend>Traveller {index + 1}</legend>
            <div class="grid">
              {PASSENGER_FIELDS.map(([key, label, autoComplete, type]) => (
                <Field
                  key={key}
                  id={`passengers-${index}-${key}`}
                  label={label}
                  type={type}
                  autoComplete={autoComplete}
                  value={passenger[key]}
                  onInput={setPassenger(index, key)}
                  error={errors[`passengers.${index}.${key}`]}
                  required
                />
              ))}
            </div>
          </fieldset>
        ))}
        <fieldset>
          <legend>Contact</legend>
          <div class="grid">
            <Field id="contact-email" label="E-mail" type="email" autoComplete="email" value={contact.email} onInput={setContactField('email')} error={errors['contact.email']} required />
            <Field id="contact-phone" label="Phone" type="tel" autoComplete="tel" hint="International format, such as +447700900123" value={contact.phone} onInput={setContactField('phone')} error={errors['contact.phone']} required />
          </div>
          <div class="field">
            <label for="notes">Notes (optional)</label>
            <textarea id="notes" maxLength={2000} value={notes} onInput={(e) => setNotes((e.currentTarget as HTMLTextAreaElement).value)} aria-describedby={errors.notes ? 'notes-error' : undefined} />
            {errors.notes && <span id="notes-error" class="error">{errors.notes}</span>}
          </div>
        </fieldset>
        <fieldset>
          <legend>Card</legend>
          <div ref={cardHost} id="card-element" />
        </fieldset>
        {failure && <Notice kind="error">{failure}</Notice>}
        {mayHavePaid && (
          <Notice kind="error">
            Your earlier payment may have gone through: see <a href="/bookings">My bookings</a> before paying again.
          </Notice>
        )}
        {/* aria-disabled, not disabled: a disabled button drops the keyboard focus; the guard in pay() refuses the click. */}
        <button type="submit" aria-disabled={busy ? 'true' : undefined}>{busy ? 'Paying…' : `Pay ${money(offer.price)}`}</button>
      </form>
    </Page>
  );
}
