import type { ComponentChildren } from 'preact';

/** A labelled input with its error announced and tied to it (aria-describedby). */
export function Field(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string | undefined;
  type?: string;
  autoComplete?: string;
  required?: boolean;
  hint?: string;
  inputMode?: 'text' | 'numeric' | 'tel' | 'email';
  min?: string;
  maxLength?: number;
}) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint && <span id={`${props.id}-hint`} class="hint">{props.hint}</span>}
      <input
        id={props.id}
        name={props.id}
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        autoComplete={props.autoComplete}
        required={props.required}
        inputMode={props.inputMode}
        min={props.min}
        maxLength={props.maxLength}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      {props.error && <span id={`${props.id}-error`} class="error">{props.error}</span>}
    </div>
  );
}

/** A message the screen reader reads out: `alert` for failures, `status` for progress. */
export function Notice(props: { kind: 'error' | 'info' | 'success'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function Page(props: { title: string; children: ComponentChildren }) {
  document.title = `${props.title} · TravelConnect`;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>{props.title}</h1>
      {props.children}
    </section>
  );
}

/** Field errors of a zod-style issue list, by dotted path. */
export function errorsByPath(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.path.map(String).join('.')] ??= issue.message;
  return errors;
}
