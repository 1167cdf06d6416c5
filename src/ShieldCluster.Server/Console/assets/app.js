// The console's entry point: sign-in with the admin key (kept in sessionStorage only) and a small
// hash router over the three views.

import { api, session } from './api.js';
import { clientView } from './client.js';
import { clientsView } from './clients.js';
import { h } from './dom.js';
import { eventsView } from './events.js';

const byId = (id) => document.getElementById(id);
const signIn = byId('sign-in');
const form = byId('sign-in-form');
const keyInput = byId('admin-key');
const signInError = byId('sign-in-error');
const view = byId('view');
const nav = byId('nav');
const signOut = byId('sign-out');

const routes = [
  [/^#\/clients\/([^/]+)$/, (container, match) => clientView(container, decodeURIComponent(match[1]))],
  [/^#\/events$/, (container) => eventsView(container)],
  [/^(#\/?|#\/clients)?$/, (container) => clientsView(container)],
];

let current = null;

function showSignIn(message) {
  current?.dispose();
  current = null;
  view.replaceChildren();
  view.hidden = true;
  nav.hidden = true;
  signOut.hidden = true;
  signIn.hidden = false;
  signInError.hidden = !message;
  signInError.textContent = message ?? '';
  keyInput.focus();
}

function route() {
  if (!session.key) {
    showSignIn();
    return;
  }

  current?.dispose();
  current = null;
  signIn.hidden = true;
  nav.hidden = false;
  signOut.hidden = false;
  view.hidden = false;
  view.replaceChildren();

  const hash = location.hash;
  for (const link of nav.querySelectorAll('a')) {
    link.classList.toggle('active', hash.startsWith(link.getAttribute('href')) || (!hash && link.getAttribute('href') === '#/clients'));
  }
  for (const [pattern, make] of routes) {
    const match = pattern.exec(hash);
    if (match) {
      try {
        current = make(view, match);
      } catch (error) {
        view.append(h('p', { class: 'error' }, `This page cannot be shown: ${error.message}`));
      }
      return;
    }
  }
  view.append(h('p', { class: 'note' }, 'No such page. ', h('a', { href: '#/clients' }, 'Riskiest clients')));
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  signInError.hidden = true;
  if (!key) return;
  const button = byId('sign-in-button');
  button.disabled = true;
  try {
    // Check the key before keeping it: a wrong key shows the API's error and no data.
    await api('/admin/clients?sort=risk&top=1', { key });
  } catch (error) {
    signInError.textContent = `Sign-in refused: ${error.display ?? error.message}`;
    signInError.hidden = false;
    return;
  } finally {
    button.disabled = false;
  }
  keyInput.value = '';
  session.set(key);
  route();
});

signOut.addEventListener('click', () => {
  session.clear();
  showSignIn();
});

window.addEventListener('shield:signed-out', (event) => showSignIn(`Signed out: ${event.detail}`));
window.addEventListener('hashchange', route);
route();
