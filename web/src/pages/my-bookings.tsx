import { useEffect, useState } from 'preact/hooks';
import { api, money, problemText, type components } from '../api/client';
import { Notice, Page } from '../ui';

type Summary = components['schemas']['BookingPage']['items'][number];
const FILTERS = ['', 'CONFIRMED', 'AWAITING_PAYMENT', 'FAILED', 'CANCELLED', 'REFUNDED', 'EXPIRED'] as const;

/** The traveller's bookings, newest first, a page at a time. */
export function MyBookingsPage() {
  const [status, setStatus] = useState<(typeof FILTERS)[number]>('');
  const [items, setItems] = useState<Summary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [failure, setFailure] = useState('');

  async function load(cursor?: string) {
    const { data, error } = await api.GET('/api/v1/bookings', {
      params: { query: { limit: 20, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
    });
    if (!data) return setFailure(problemText(error));
    setItems((before) => (cursor ? [...before, ...data.items] : data.items));
    setNext(data.nextCursor);
    setLoaded(true);
  }

  useEffect(() => {
    void load();
  }, [status]);

  return (
    <Page title="My bookings">
      <div class="field narrow">
        <label for="status-filter">Show</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as typeof status)}>
          {FILTERS.map((f) => <option key={f} value={f}>{f ? f.replaceAll('_', ' ').toLowerCase() : 'all bookings'}</option>)}
        </select>
      </div>
      {failure && <Notice kind="error">{failure}</Notice>}
      {loaded && items.length === 0 && <p>No bookings yet. <a href="/">Search flights and hotels</a>.</p>}
      <ul class="offers">
        {items.map((b) => (
          <li key={b.bookingId} class="card">
            <a href={`/bookings/${b.bookingId}`}>
              {b.items.map((i) => (i.kind === 'hotel' ? 'Hotel' : 'Flight')).join(' + ')} · {money(b.price)}
            </a>
            <p>
              <span class="badge">{b.status.replaceAll('_', ' ').toLowerCase()}</span> booked {new Date(b.createdAt).toLocaleString('en-GB')}
            </p>
          </li>
        ))}
      </ul>
      {next && <button type="button" class="secondary" onClick={() => void load(next)}>Show more</button>}
    </Page>
  );
}
