import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { AccountPage, DeletedPage } from './pages/account';
import { LoginPage, PasswordResetPage, SignUpPage, VerifyEmailPage } from './pages/auth';
import { BookPage } from './pages/book';
import { BookingPage } from './pages/booking';
import { MyBookingsPage } from './pages/my-bookings';
import { SearchPage } from './pages/search';
import { here, navigate, useLocation } from './router';
import { logOut, restoreSession, useUser } from './session';
import { Notice, Page } from './ui';

const PUBLIC = new Set(['/', '/login', '/signup', '/verify-email', '/password-reset', '/deleted']);

function Routes(props: { path: string }) {
  const booking = /^\/bookings\/([0-9a-f-]{36})$/i.exec(props.path);
  if (booking) return <BookingPage id={booking[1]!} />;
  switch (props.path) {
    case '/': return <SearchPage />;
    case '/book': return <BookPage />;
    case '/bookings': return <MyBookingsPage />;
    case '/account': return <AccountPage />;
    case '/signup': return <SignUpPage />;
    case '/verify-email': return <VerifyEmailPage />;
    case '/login': return <LoginPage />;
    case '/password-reset': return <PasswordResetPage />;
    case '/deleted': return <DeletedPage />;
    default: return <Page title="Not found"><p>There is no such page. <a href="/">Search flights and hotels</a>.</p></Page>;
  }
}

function App() {
  const url = useLocation();
  const user = useUser();
  const needsUser = !PUBLIC.has(url.pathname);
  const [logoutFailure, setLogoutFailure] = useState('');
  // A new page (not a new query on the same one) takes the focus to its heading, so a screen reader
  // announces where the user is and the keyboard starts from there; the first page keeps the browser's.
  const firstPage = useRef(true);
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
  }, [url.pathname]);
  if (user === null && needsUser) {
    queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(here())}`, { replace: true }));
  }
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <a href="/" class="brand">TravelConnect</a>
        <nav aria-label="Main">
          <a href="/">Search</a>
          {user && <a href="/bookings">My bookings</a>}
          {user && <a href="/account">Account</a>}
          {user === null && <a href="/login">Log in</a>}
          {user === null && <a href="/signup">Sign up</a>}
          {user && <button type="button" class="link" onClick={() => void logOut().then((failure) => setLogoutFailure(failure ?? ''))}>Log out</button>}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {user && logoutFailure && <Notice kind="error">{logoutFailure}</Notice>}
        {user === undefined || (user === null && needsUser) ? <p role="status">Loading…</p> : <Routes path={url.pathname} />}
      </main>
    </>
  );
}

// Links inside the app change the page without reloading it (the in-memory booking draft survives).
document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a');
  if (!link || link.target || link.hasAttribute('download') || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const to = new URL(link.href);
  if (to.origin !== window.location.origin || to.pathname.startsWith('/api/') || to.pathname.startsWith('/docs')) return;
  event.preventDefault();
  navigate(`${to.pathname}${to.search}`);
});

void restoreSession();
render(<App />, document.getElementById('app')!);
