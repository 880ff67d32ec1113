/**
 * The admin dashboard's entry point (bundled into public/admin/admin.js by scripts/build-admin-ui.mjs):
 * asks `GET /admin/api/session` whether the browser is signed in, then shows the sign-in form or the
 * dashboard. The API lives beside this script, so its URL is found from the script's own
 * (`import.meta.url`), whatever the server's basePath.
 */
import { AdminApi, ApiError, describeError } from './api.js';
import { notify } from './confirm.js';
import { Dashboard } from './dashboard.js';
import { byId } from './dom.js';
import { formatRoute } from './route.js';

const api = new AdminApi(new URL('./', import.meta.url));
let dashboard: Dashboard | null = null;
let throttle: ReturnType<typeof setInterval> | null = null;

const form = (): HTMLFormElement => byId<HTMLFormElement>('signin-form');
const password = (): HTMLInputElement => byId<HTMLInputElement>('password');
const signInButton = (): HTMLButtonElement => byId<HTMLButtonElement>('signin-button');

function show(view: 'boot' | 'signin' | 'app'): void {
  byId('boot').hidden = view !== 'boot';
  byId('signin').hidden = view !== 'signin';
  byId('app').hidden = view !== 'app';
  document.body.dataset['view'] = view;
}

function signInError(text: string | null): void {
  const error = byId('signin-error');
  error.hidden = text === null;
  error.textContent = text ?? '';
}

/** The sign-in form, with `message` (why it is showing) when there is one. */
function showSignIn(message: string | null = null): void {
  dashboard?.stop();
  dashboard = null;
  document.title = 'Sign in · Switchboard admin';
  show('signin');
  signInError(message);
  password().value = '';
  password().focus();
}

/** Refuse sign-ins for `seconds`, counting down on the button's side. */
function throttled(seconds: number): void {
  if (throttle !== null) clearInterval(throttle);
  let left = Math.max(1, Math.ceil(seconds));
  const tick = (): void => {
    if (left <= 0) {
      if (throttle !== null) clearInterval(throttle);
      throttle = null;
      signInButton().disabled = false;
      signInError('You can try again now.');
      return;
    }
    signInButton().disabled = true;
    signInError(`Too many failed attempts. Try again in ${left} s.`);
    left--;
  };
  tick();
  throttle = setInterval(tick, 1000);
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault(); // the form never submits itself (the CSP's form-action is 'none')
  const button = signInButton();
  if (button.disabled) return;
  const secret = password().value;
  if (secret === '') {
    signInError('Enter the admin password.');
    return;
  }
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    await api.login(secret);
    password().value = '';
    signInError(null);
    await boot();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signInError('Wrong password.');
    else if (error instanceof ApiError && error.status === 429) throttled(error.retryAfterSec ?? 10);
    else signInError(describeError(error));
    password().select();
  } finally {
    button.textContent = 'Sign in';
    if (throttle === null) button.disabled = false;
  }
}

async function signOut(): Promise<void> {
  try {
    await api.logout();
    showSignIn('Signed out.');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // already signed out: the form shows
    notify(`Could not sign out: ${describeError(error)}`, 'bad');
  }
}

/** Ask the server who we are, and show what fits. */
async function boot(): Promise<void> {
  try {
    const session = await api.session();
    dashboard?.stop();
    show('app');
    dashboard = new Dashboard(api, session, () => showSignIn('Your session ended: sign in again.'));
    await dashboard.start();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      if (byId('signin').hidden) showSignIn();
      return;
    }
    showSignIn(`The dashboard is not available: ${describeError(error)}`);
  }
}

function wire(): void {
  // Every 401 from the API means the session is gone (expired, or the password changed).
  api.onUnauthorized = () => {
    if (dashboard !== null) showSignIn('Your session ended: sign in again.');
  };
  form().addEventListener('submit', (event) => void signIn(event));
  byId('signout').addEventListener('click', () => void signOut());
  byId<HTMLFormElement>('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const query = byId<HTMLInputElement>('search-input').value.trim();
    if (query === '') return;
    location.hash = formatRoute({ view: 'search', query: query.slice(0, 200) });
  });
  void boot();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire, { once: true });
else wire();
