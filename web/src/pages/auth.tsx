import { useState } from 'preact/hooks';
import { api, problemText } from '../api/client';
import { navigate, useLocation } from '../router';
import { safeNext } from '../safe-next';
import { signedIn } from '../session';
import { Field, Notice, Page } from '../ui';

export function SignUpPage() {
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [done, setDone] = useState(false);
  const [failure, setFailure] = useState('');
  async function submit(event: Event) {
    event.preventDefault();
    const { error } = await api.POST('/api/v1/auth/signup', { body: form });
    if (error) return setFailure(problemText(error));
    setDone(true);
  }
  if (done) return <Page title="Check your e-mail"><Notice kind="success">We sent a link to {form.email}. Follow it to confirm your address.</Notice></Page>;
  return (
    <Page title="Create an account">
      <form onSubmit={(event) => void submit(event)} class="narrow">
        <Field id="name" label="Your name" autoComplete="name" value={form.name} onInput={(name) => setForm({ ...form, name })} required />
        <Field id="email" label="E-mail" type="email" autoComplete="email" value={form.email} onInput={(email) => setForm({ ...form, email })} required />
        <Field id="password" label="Password" type="password" autoComplete="new-password" hint="At least 12 characters" value={form.password} onInput={(password) => setForm({ ...form, password })} required />
        {failure && <Notice kind="error">{failure}</Notice>}
        <button type="submit">Create account</button>
      </form>
      <p>Already have an account? <a href="/login">Log in</a></p>
    </Page>
  );
}

/** The mailed link proves the address; the password proves who follows it (a forwarded link signs no one in). */
export function VerifyEmailPage() {
  const url = useLocation();
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState('');
  async function submit(event: Event) {
    event.preventDefault();
    const token = url.searchParams.get('token') ?? '';
    const { data, error } = await api.POST('/api/v1/auth/verify-email', { body: { token, password, tokenDelivery: 'cookie' } });
    if (!data) return setFailure(problemText(error));
    signedIn(data);
    navigate('/', { replace: true });
  }
  return (
    <Page title="Confirm your address">
      <form onSubmit={(event) => void submit(event)} class="narrow">
        <Field id="password" label="Password" type="password" autoComplete="current-password" hint="The one you chose when you signed up" value={password} onInput={setPassword} required />
        {failure && <Notice kind="error">{failure}</Notice>}
        <button type="submit">Confirm and log in</button>
      </form>
    </Page>
  );
}

export function LoginPage() {
  const url = useLocation();
  const [form, setForm] = useState({ email: '', password: '' });
  const [failure, setFailure] = useState('');
  async function submit(event: Event) {
    event.preventDefault();
    const { data, error } = await api.POST('/api/v1/auth/login', { body: { ...form, tokenDelivery: 'cookie' } });
    if (!data) return setFailure(problemText(error));
    signedIn(data);
    navigate(safeNext(url.searchParams.get('next'), window.location.origin), { replace: true });
  }
  return (
    <Page title="Log in">
      {url.searchParams.has('next') && <Notice kind="info">Please log in to continue.</Notice>}
      <form onSubmit={(event) => void submit(event)} class="narrow">
        <Field id="email" label="E-mail" type="email" autoComplete="username" value={form.email} onInput={(email) => setForm({ ...form, email })} required />
        <Field id="password" label="Password" type="password" autoComplete="current-password" value={form.password} onInput={(password) => setForm({ ...form, password })} required />
        {failure && <Notice kind="error">{failure}</Notice>}
        <button type="submit">Log in</button>
      </form>
      <p><a href="/password-reset">Forgot your password?</a> · <a href="/signup">Create an account</a></p>
    </Page>
  );
}

export function PasswordResetPage() {
  const url = useLocation();
  const token = url.searchParams.get('token');
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const { error } = token
      ? await api.POST('/api/v1/auth/password-reset/confirm', { body: { token, newPassword: value } })
      : await api.POST('/api/v1/auth/password-reset/request', { body: { email: value } });
    if (error) return setMessage({ kind: 'error', text: problemText(error) });
    setMessage({ kind: 'success', text: token ? 'Your password is changed. Log in with it.' : 'If this address has an account, we sent it a link.' });
  }
  return (
    <Page title={token ? 'Choose a new password' : 'Reset your password'}>
      <form onSubmit={(event) => void submit(event)} class="narrow">
        {token ? (
          <Field id="new-password" label="New password" type="password" autoComplete="new-password" hint="At least 12 characters" value={value} onInput={setValue} required />
        ) : (
          <Field id="email" label="E-mail" type="email" autoComplete="email" value={value} onInput={setValue} required />
        )}
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        <button type="submit">{token ? 'Change password' : 'Send the link'}</button>
      </form>
      {message?.kind === 'success' && token && <p><a href="/login">Log in</a></p>}
    </Page>
  );
}
