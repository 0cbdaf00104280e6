import { useEffect, useState } from 'preact/hooks';
import { flightSearchSchema, hotelSearchSchema } from '../../../domain/booking.schemas';
import { api, money, problemText } from '../api/client';
import { draft, emptyPassenger, type Offer } from '../draft';
import { navigate, useLocation } from '../router';
import { errorsByPath, Field, Notice, Page } from '../ui';
import { FARE_RULE_WORDS } from '../words';

type Kind = 'flights' | 'hotels';
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const FLIGHT_DEFAULTS = { origin: 'JFK', destination: 'LHR', departureDate: inDays(30), adults: '1' };
const HOTEL_DEFAULTS = { city: 'LON', checkIn: inDays(30), checkOut: inDays(32), guests: '1' };

function describe(offer: Offer): string {
  const d = offer.details as Record<string, string | number | undefined>;
  if (offer.kind === 'hotel') return `${d.hotelName ?? 'Hotel'} (${d.stars ?? '?'}★), ${d.roomType ?? 'room'}, ${d.checkIn} to ${d.checkOut}`;
  const time = (iso: unknown) => (typeof iso === 'string' ? iso.slice(11, 16) : '');
  return `${d.flightNumber ?? 'Flight'} ${d.origin} → ${d.destination}, departs ${String(d.departsAt ?? '').slice(0, 10)} ${time(d.departsAt)}, ${d.cabin ?? ''}`;
}

/** Flights and hotels from every provider; a provider that did not answer makes the list partial, and says so. */
export function SearchPage() {
  const url = useLocation();
  const kind: Kind = url.searchParams.get('kind') === 'hotels' ? 'hotels' : 'flights';
  const defaults: Record<string, string> = kind === 'flights' ? FLIGHT_DEFAULTS : HOTEL_DEFAULTS;
  const [form, setForm] = useState<Record<string, string>>(() => ({ ...defaults, ...Object.fromEntries(url.searchParams) }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ offers: Offer[]; partial: boolean; failedProviders: string[] } | null>(null);
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);
  const submitted = url.searchParams.has('go');

  useEffect(() => {
    setForm({ ...defaults, ...Object.fromEntries(url.searchParams) });
    if (!submitted) return setResult(null);
    setBusy(true);
    setFailure('');
    const query = Object.fromEntries([...url.searchParams].filter(([key]) => key !== 'go' && key !== 'kind'));
    const call = kind === 'flights'
      ? api.GET('/api/v1/search/flights', { params: { query: query as never } })
      : api.GET('/api/v1/search/hotels', { params: { query: query as never } });
    call
      .then(({ data, error }) => (data ? setResult(data) : setFailure(problemText(error))))
      .catch(() => setFailure('The search could not be reached. Check your connection and try again.'))
      .finally(() => setBusy(false));
  }, [url.search]);

  function submit(event: Event) {
    event.preventDefault();
    const fields = Object.fromEntries(Object.keys(defaults).map((key) => [key, form[key] ?? '']));
    const parsed = (kind === 'flights' ? flightSearchSchema : hotelSearchSchema).safeParse(fields);
    setErrors(parsed.success ? {} : errorsByPath(parsed.error.issues));
    if (parsed.success) navigate(`/?${new URLSearchParams({ kind, ...fields, go: '1' })}`);
  }

  function choose(offer: Offer) {
    const travellers = Number(kind === 'flights' ? form.adults : form.guests) || 1;
    if (draft.offer?.offerId !== offer.offerId || draft.passengers.length !== travellers) {
      draft.passengers = Array.from({ length: travellers }, (_, i) => draft.passengers[i] ?? emptyPassenger());
    }
    draft.offer = offer;
    draft.travellers = travellers;
    navigate('/book');
  }

  const set = (key: string) => (value: string) => setForm({ ...form, [key]: key.length === 3 || key === 'origin' || key === 'destination' || key === 'city' ? value.toUpperCase() : value });
  return (
    <Page title="Search">
      <nav aria-label="What to search" class="tabs">
        <a href="/?kind=flights" aria-current={kind === 'flights' ? 'page' : undefined}>Flights</a>
        <a href="/?kind=hotels" aria-current={kind === 'hotels' ? 'page' : undefined}>Hotels</a>
      </nav>
      <form onSubmit={submit} noValidate class="grid">
        {kind === 'flights' ? (
          <>
            <Field id="origin" label="From (airport code)" value={form.origin ?? ''} onInput={set('origin')} error={errors.origin} maxLength={3} required />
            <Field id="destination" label="To (airport code)" value={form.destination ?? ''} onInput={set('destination')} error={errors.destination} maxLength={3} required />
            <Field id="departureDate" label="Departure date" type="date" value={form.departureDate ?? ''} onInput={set('departureDate')} error={errors.departureDate} required />
            <Field id="adults" label="Travellers" type="number" min="1" value={form.adults ?? '1'} onInput={set('adults')} error={errors.adults} />
          </>
        ) : (
          <>
            <Field id="city" label="City (code)" value={form.city ?? ''} onInput={set('city')} error={errors.city} maxLength={3} required />
            <Field id="checkIn" label="Check-in" type="date" value={form.checkIn ?? ''} onInput={set('checkIn')} error={errors.checkIn} required />
            <Field id="checkOut" label="Check-out" type="date" value={form.checkOut ?? ''} onInput={set('checkOut')} error={errors.checkOut} required />
            <Field id="guests" label="Guests" type="number" min="1" value={form.guests ?? '1'} onInput={set('guests')} error={errors.guests} />
          </>
        )}
        <button type="submit" disabled={busy}>{busy ? 'Searching…' : `Search ${kind}`}</button>
      </form>
      {failure && <Notice kind="error">{failure}</Notice>}
      {result && (
        <div aria-live="polite">
          {result.partial && (
            <Notice kind="info">
              Partial results: {result.failedProviders.join(', ') || 'a provider'} did not answer in time, so this list may be incomplete.
            </Notice>
          )}
          <h2>{result.offers.length} {result.offers.length === 1 ? 'offer' : 'offers'}</h2>
          <ul class="offers">
            {result.offers.map((offer) => (
              <li key={offer.offerId} class="card">
                <p><strong>{money(offer.price)}</strong> · {offer.provider}</p>
                <p>{describe(offer)}</p>
                <p class="hint">{FARE_RULE_WORDS[String((offer.details as { fareRule?: string }).fareRule)] ?? ''}</p>
                <button type="button" onClick={() => choose(offer)} aria-label={`Choose ${describe(offer)} for ${money(offer.price)}`}>Choose</button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Page>
  );
}
