import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type components } from '../api/client';
import { navigate } from '../router';
import { signedOut, useUser } from '../session';
import { Field, Notice, Page } from '../ui';

type Session = components['schemas']['Session'];

/** Signed-in devices (revoke one), the data export, and deleting the account. */
export function AccountPage() {
  const user = useUser();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [failure, setFailure] = useState('');
  const [exportUrl, setExportUrl] = useState('');
  const [password, setPassword] = useState('');
  const [deleting, setDeleting] = useState(false);

  async function loadSessions() {
    const { data, error } = await api.GET('/api/v1/auth/sessions');
    if (data) setSessions(data.sessions);
    else setFailure(problemText(error));
  }
  useEffect(() => {
    void loadSessions();
  }, []);
  // The export's copy in memory goes when it is replaced or the page is left.
  useEffect(() => () => {
    if (exportUrl) URL.revokeObjectURL(exportUrl);
  }, [exportUrl]);

  async function revoke(id: string) {
    const { error } = await api.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id } } });
    if (error) return setFailure(problemText(error));
    await loadSessions();
  }

  async function exportData() {
    const { data, error } = await api.GET('/api/v1/users/me/export');
    if (!data) return setFailure(problemText(error));
    setExportUrl(URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })));
  }

  async function deleteAccount(event: Event) {
    event.preventDefault();
    const { data, error } = await api.DELETE('/api/v1/users/me', { body: { password } });
    if (!data) return setFailure(problemText(error));
    signedOut('ended');
    navigate(`/deleted?until=${encodeURIComponent(data.deletionScheduledFor)}`);
  }

  return (
    <Page title="My account">
      {user && <p>{user.name} · {user.email}</p>}
      {failure && <Notice kind="error">{failure}</Notice>}
      <h2>Signed-in devices</h2>
      <ul class="offers">
        {sessions.map((s) => (
          <li key={s.id} class="card">
            <p>{s.device || 'Unknown device'}{s.current ? ' (this device)' : ''}</p>
            <p class="hint">Signed in {new Date(s.createdAt).toLocaleString('en-GB')}, last seen {new Date(s.lastSeenAt).toLocaleString('en-GB')}</p>
            {!s.current && <button type="button" class="secondary" onClick={() => void revoke(s.id)}>Sign this device out</button>}
          </li>
        ))}
      </ul>
      <h2>Your data</h2>
      <button type="button" class="secondary" onClick={() => void exportData()}>Prepare my data export</button>
      {exportUrl && <p><a href={exportUrl} download="travelconnect-export.json">Download my data (JSON)</a></p>}
      <h2>Delete my account</h2>
      {!deleting ? (
        <button type="button" class="danger" onClick={() => setDeleting(true)}>Delete my account…</button>
      ) : (
        <form onSubmit={(event) => void deleteAccount(event)} class="narrow card">
          <p>Every device is signed out now. Your data is erased after the grace period unless you log in again before then.</p>
          <Field id="delete-password" label="Your password" type="password" autoComplete="current-password" value={password} onInput={setPassword} required />
          <button type="submit" class="danger">Delete my account</button>{' '}
          <button type="button" class="secondary" onClick={() => setDeleting(false)}>Keep it</button>
        </form>
      )}
    </Page>
  );
}

export function DeletedPage() {
  const until = new URL(window.location.href).searchParams.get('until');
  return (
    <Page title="Account deleted">
      <p>Your account will be erased{until ? ` on ${new Date(until).toLocaleDateString('en-GB')}` : ''}. Log in before then to keep it.</p>
    </Page>
  );
}
