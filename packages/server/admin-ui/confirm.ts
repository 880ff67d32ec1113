/**
 * Every action goes through one confirmation: a modal `<dialog>` that says exactly what will happen, with
 * Cancel (and Escape) doing nothing. The action runs only from its confirm button; while it runs the
 * button says so, a failure is shown in the dialog (so it can be retried or cancelled), and a success
 * closes it and leaves a notice.
 */
import { describeError } from './api.js';
import { byId, h, replace } from './dom.js';
import type { Child } from './dom.js';

/** What the dialog asks. */
export interface ConfirmOptions {
  readonly title: string;
  /** What will happen, in plain words; may include form fields the action reads. */
  readonly body: readonly Child[];
  /** The confirm button's label: the verb (`Publish`, `Disconnect`). */
  readonly confirmLabel: string;
  /** `danger` for what cannot be undone (closing connections). */
  readonly tone: 'primary' | 'danger';
  /** The action; resolves with the line of the success notice, rejects with the error to show. */
  run(): Promise<string>;
}

/** Notices at the bottom of the page (a polite live region). */
export function notify(text: string, tone: 'ok' | 'bad' = 'ok'): void {
  const region = byId('toasts');
  const close = h(
    'button',
    { class: 'toast-close', attrs: { type: 'button', 'aria-label': 'Dismiss' } },
    '×',
  );
  const toast = h(
    'div',
    { class: `toast toast-${tone}`, data: { tone } },
    h('span', { class: 'toast-text' }, text),
    close,
  );
  const remove = (): void => toast.remove();
  close.addEventListener('click', remove);
  region.append(toast);
  setTimeout(remove, tone === 'ok' ? 8000 : 15_000);
}

/** Ask, then run; resolves true once the action succeeded, false when cancelled. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  const error = h('p', { class: 'dialog-error', attrs: { role: 'alert' } });
  error.hidden = true;
  const cancel = h(
    'button',
    { class: 'btn', attrs: { type: 'button' }, data: { action: 'cancel' } },
    'Cancel',
  );
  const ok = h(
    'button',
    { class: `btn btn-${options.tone}`, attrs: { type: 'button' }, data: { action: 'confirm' } },
    options.confirmLabel,
  );
  replace(
    dialog,
    h('h2', { class: 'dialog-title', id: 'confirm-title' }, options.title),
    h('div', { class: 'dialog-body' }, ...options.body),
    error,
    h('div', { class: 'dialog-actions' }, cancel, ok),
  );
  dialog.setAttribute('aria-labelledby', 'confirm-title');

  return new Promise<boolean>((resolve) => {
    let busy = false;
    const finish = (result: boolean): void => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      resolve(result);
    };
    const onCancel = (event: Event): void => {
      event.preventDefault(); // our own close, so the promise settles once
      if (!busy) finish(false);
    };
    dialog.addEventListener('cancel', onCancel);
    cancel.addEventListener('click', () => {
      if (!busy) finish(false);
    });
    ok.addEventListener('click', () => {
      if (busy) return;
      busy = true;
      ok.disabled = true;
      cancel.disabled = true;
      ok.textContent = `${options.confirmLabel}…`;
      error.hidden = true;
      options.run().then(
        (message) => {
          busy = false;
          finish(true);
          notify(message, 'ok');
        },
        (failure: unknown) => {
          busy = false;
          ok.disabled = false;
          cancel.disabled = false;
          ok.textContent = options.confirmLabel;
          error.textContent = describeError(failure);
          error.hidden = false;
        },
      );
    });
    dialog.showModal();
    cancel.focus();
  });
}
