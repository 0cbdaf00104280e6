import { useEffect, useRef, useState } from 'preact/hooks';
import { api, money, newKey, problemText, type Booking } from '../api/client';
import { draft } from '../draft';
import { navigate } from '../router';
import { loadStripe } from '../stripe';
import { Notice, Page } from '../ui';
import { CARD_FAILURES, FAILURE_WORDS, FARE_RULE_WORDS, STATUS_WORDS, TERMINAL } from '../words';

// Polling backs off from 1 s to 5 s while the saga works; a finished booking is not polled.
const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 5_000;
// A poll that gets no answer (offline, the API restarting) is tried again, backing off to 30 s.
const MAX_RECONNECT_MS = 30_000;
// Answers that will not change however often they are asked: the booking is not there for this user.
const GONE = new Set([403, 404]);

/** One booking, followed live: the bank's challenge when it asks, failures in words, cancellation with its refund. */
export function BookingPage(props: { id: string }) {
  const [booking, setBooking] = useState<Booking | null>(null);
  const [failure, setFailure] = useState('');
  const [challenge, setChallenge] = useState('');
  // The bank's check that could not run or finish for a technical reason, offered again by a button.
  const [unfinished, setUnfinished] = useState('');
  const [confirmingCancel, setConfirmingCancel] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [poke, setPoke] = useState(0);
  const [reconnecting, setReconnecting] = useState(false);
  const challenged = useRef(new Set<string>());
  // A confirmed booking being cancelled stays CONFIRMED until the cancellation has run: keep following it.
  const cancelRequested = useRef(false);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = FIRST_POLL_MS;
    const next = (cap: number) => {
      timer = setTimeout(() => void poll(), delay);
      delay = Math.min(cap, delay * 1.5);
    };
    async function poll() {
      const answer = await api.GET('/api/v1/bookings/{id}', { params: { path: { id: props.id } } }).catch(() => null);
      if (stopped) return;
      // A lapsed session: the session layer sends the user to log in (and back here), which ends this page.
      if (answer?.response.status === 401) return;
      if (answer && GONE.has(answer.response.status)) {
        setReconnecting(false);
        return setFailure(problemText(answer.error));
      }
      if (!answer?.data) {
        // No answer, or the API's own trouble: keep following, the booking goes on at the server regardless.
        setReconnecting(true);
        return next(MAX_RECONNECT_MS);
      }
      const data = answer.data;
      setReconnecting(false);
      delay = Math.min(delay, MAX_POLL_MS);
      setBooking(data);
      const secret = data.payment?.nextAction?.clientSecret;
      if (secret && !challenged.current.has(secret)) void runChallenge(secret);
      if (!TERMINAL.has(data.status) || (cancelRequested.current && data.status === 'CONFIRMED')) next(MAX_POLL_MS);
    }
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [props.id, poke]);

  async function runChallenge(clientSecret: string) {
    challenged.current.add(clientSecret);
    setUnfinished('');
    setChallenge('Your bank asks you to confirm this payment.');
    const error = await loadStripe()
      .then((stripe) => stripe.handleNextAction({ clientSecret }))
      .then(({ error: refused }) => refused ?? null, (thrown: unknown) => ({ code: undefined, message: thrown instanceof Error ? thrown.message : undefined }));
    if (!error) {
      setChallenge('Thank you: your bank confirmed the payment.');
    } else if (error.code === 'payment_intent_authentication_failure') {
      setChallenge('You did not confirm the payment with your bank, so it was refused.');
    } else if (error.code === 'payment_intent_unexpected_state') {
      // The payment has moved on (confirmed elsewhere, or ended): the booking says where it is.
      setChallenge('');
    } else {
      // Nothing was decided: the check is offered again, by the button rather than by the next poll.
      setChallenge(`Your bank's check could not be completed${error.message ? `: ${error.message}` : '.'} Please try again.`);
      setUnfinished(clientSecret);
    }
    setPoke((n) => n + 1);
  }

  async function cancel() {
    setFailure('');
    setCancelling(true);
    cancelRequested.current = true;
    const answer = await api.POST('/api/v1/bookings/{id}/cancel', {
      params: { path: { id: props.id }, header: { 'idempotency-key': newKey() } },
    }).catch(() => null);
    setConfirmingCancel(false);
    setCancelling(false);
    // It may have reached the API: keep following the booking, which shows whether it did.
    if (!answer) setFailure('The answer to your cancellation did not reach us. The status above follows the booking: if it stays confirmed, try again.');
    else if (answer.error) {
      // Refused: nothing is being cancelled, so a confirmed booking is not followed any longer.
      cancelRequested.current = false;
      setFailure(problemText(answer.error));
    }
    setPoke((n) => n + 1);
  }

  const lost = reconnecting && <Notice kind="info">The connection was lost: reconnecting…</Notice>;
  if (!booking) return <Page title="Booking">{failure ? <Notice kind="error">{failure}</Notice> : lost || <p role="status">Loading…</p>}</Page>;
  const refund = booking.cancellation?.refund;
  const cancellable = ['PENDING', 'STARTED', 'HELD', 'AWAITING_PAYMENT', 'CONFIRMED'].includes(booking.status);
  return (
    <Page title="Booking">
      <p class="status" data-status={booking.status}>
        <strong>Status: {booking.status.replaceAll('_', ' ').toLowerCase()}</strong>
      </p>
      <Notice kind={booking.status === 'FAILED' || booking.status === 'EXPIRED' ? 'error' : booking.status === 'CONFIRMED' ? 'success' : 'info'}>
        {STATUS_WORDS[booking.status] ?? booking.status}
        {booking.failure && <> {FAILURE_WORDS[booking.failure.code] ?? booking.failure.message}</>}
        {booking.status === 'REFUNDED' && booking.payment && <> Refunded: {money(booking.payment.refunded)}.</>}
        {booking.status === 'CANCELLED' && booking.payment && booking.payment.refunded.amount.replace(/[0.]/g, '') === '' && (
          <> Nothing was refunded under the fare rules.</>
        )}
      </Notice>
      {lost}
      {challenge && <Notice kind="info">{challenge}</Notice>}
      {unfinished && booking.payment?.nextAction?.clientSecret === unfinished && (
        <button type="button" onClick={() => void runChallenge(unfinished)}>Confirm with your bank</button>
      )}
      {failure && <Notice kind="error">{failure}</Notice>}
      {booking.failure && CARD_FAILURES.has(booking.failure.code) && draft.offer && (
        <button type="button" onClick={() => navigate('/book')}>Try another card</button>
      )}
      <dl class="card">
        <dt>Booking</dt><dd>{booking.bookingId}</dd>
        <dt>Price</dt><dd>{money(booking.price)}</dd>
        {booking.items.map((item) => (
          <>
            <dt>{item.kind === 'hotel' ? 'Hotel' : 'Flight'} ({item.provider})</dt>
            <dd>
              {money(item.price)}, {item.state.toLowerCase()}
              {item.confirmationCode && <>, confirmation <strong>{item.confirmationCode}</strong></>}
              <br /><span class="hint">{FARE_RULE_WORDS[item.fareRule] ?? item.fareRule}</span>
            </dd>
          </>
        ))}
        <dt>Travellers</dt>
        <dd>{booking.passengers.map((p) => `${p.givenName} ${p.familyName}`).join(', ')}</dd>
      </dl>
      {cancellable && !confirmingCancel && (
        <button type="button" class="secondary" onClick={() => setConfirmingCancel(true)}>Cancel booking…</button>
      )}
      {confirmingCancel && (
        <div class="card" role="group" aria-labelledby="cancel-title">
          <h2 id="cancel-title">Cancel this booking?</h2>
          <p>
            {booking.status === 'CONFIRMED'
              ? `Cancelling now refunds ${refund ? money(refund) : 'what the fare rules allow'} of ${money(booking.price)}.`
              : 'Nothing has been charged yet: cancelling releases the hold.'}
          </p>
          <button type="button" onClick={() => void cancel()} disabled={cancelling}>{cancelling ? 'Cancelling…' : 'Yes, cancel'}</button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirmingCancel(false)}>Keep it</button>
        </div>
      )}
      <p><a href="/bookings">All my bookings</a></p>
    </Page>
  );
}
