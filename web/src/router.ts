import { useEffect, useState } from 'preact/hooks';

// History-API navigation for a handful of pages; links are <a href> intercepted in main.tsx.
const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

/** The current location; re-renders the caller on every navigation. */
export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(window.location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(window.location.href));
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return url;
}

/** Where the user is now, to come back to after signing in. */
export const here = () => `${window.location.pathname}${window.location.search}`;
