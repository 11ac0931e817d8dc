// The /ui page: recent orders, one order's timeline across the services, parked sagas.
// Plain DOM and fetch against the order service's own REST API; no framework, no build step.
// Ids stay the decimal strings the API sends: they exceed 2^53 and must never become numbers.
// Every call carries the operator's access token (sign-in.js); without one the page offers
// the sign-in and nothing else.

import { accessToken, completeSignIn, forgetSession, signIn, signOut } from './sign-in.js';

const LIST_REFRESH_MS = 3000;
const PENDING_REFRESH_MS = 700;
const RECENT_LIMIT = 25;

/** Which service runs each saga step, what it does, and what its compensation undoes. */
const SAGA_STEPS = {
  reserveStock: { service: 'inventory', does: 'reserve the stock, price the order' },
  takePayment: { service: 'payment', does: 'take the payment' },
  confirmStock: { service: 'inventory', does: 'confirm the reserved stock as sold' },
};
const SAGA_UNDO = {
  reserveStock: 'release the reserved stock',
  takePayment: 'refund the payment',
};
/** A TCC branch is named after its participant; its operations are try, confirm and cancel. */
const TCC_OPS = {
  try: 'Try: reserve (stock) / freeze (funds)',
  confirm: 'Confirm: make the reservation final',
  cancel: 'Cancel: give back what Try reserved',
};

/** A 2PC participant's operations: prepare (and vote), then the decision, commit or rollback. */
const TWO_PC_OPS = {
  prepare: 'Prepare: make the change in a prepared transaction, vote',
  commit: 'Commit: COMMIT PREPARED, the change becomes visible',
  rollback: 'Rollback: ROLLBACK PREPARED, nothing was ever visible',
};
/** Per protocol: what each op does, and the op that undoes (shown under compensations). */
const BRANCH_PROTOCOLS = {
  tcc: { ops: TCC_OPS, undo: 'cancel' },
  '2pc': { ops: TWO_PC_OPS, undo: 'rollback' },
};

/** How a history line reads on the page: service, step name, description, which table. */
function describeStep(strategy, step) {
  const protocol = BRANCH_PROTOCOLS[strategy];
  if (protocol) {
    const dot = step.lastIndexOf('.');
    const service = dot < 0 ? '?' : step.slice(0, dot);
    const op = dot < 0 ? step : step.slice(dot + 1);
    return {
      service,
      name: step,
      does: protocol.ops[op] ?? op,
      compensation: op === protocol.undo,
    };
  }
  if (step.endsWith('.compensation')) {
    const undone = step.slice(0, -'.compensation'.length);
    return {
      service: SAGA_STEPS[undone]?.service ?? '?',
      name: undone,
      does: SAGA_UNDO[undone] ?? `undo ${undone}`,
      compensation: true,
    };
  }
  const known = SAGA_STEPS[step];
  return {
    service: known?.service ?? '?',
    name: step,
    does: known?.does ?? '',
    compensation: false,
  };
}

// ---- small DOM helpers (textContent only: nothing from the API is parsed as HTML) ----

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const $ = (selector) => document.querySelector(selector);

const money = (cents) => (cents === null ? '—' : `${(cents / 100).toFixed(2)}`);
const clock = (iso) => iso.slice(11, 23); // HH:MM:SS.mmm, UTC as the API writes it
const sinceMs = (iso, fromIso) => Date.parse(iso) - Date.parse(fromIso);

function statusBadge(status) {
  return el(
    'span',
    { class: `status status-${status.toLowerCase()}`, 'data-status': status },
    status,
  );
}

function outcomeBadge(outcome) {
  return el(
    'span',
    { class: `outcome outcome-${outcome.toLowerCase()}`, 'data-outcome': outcome },
    outcome,
  );
}

/** The page's state is its URL: `?order=<id>` opens a timeline, `?customer=<id>` filters the list. */
function pageUrl(changes) {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value) params.set(name, value);
    else params.delete(name);
  }
  const query = params.toString();
  return query ? `/ui?${query}` : '/ui';
}

function navigate(changes) {
  history.pushState({}, '', pageUrl(changes));
  showRoute();
}

function orderLink(id) {
  const open = (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate({ order: id });
  };
  return el('a', { href: pageUrl({ order: id }), class: 'order-link', onclick: open }, id);
}

async function api(method, path) {
  const token = accessToken();
  if (!token) {
    showSignedOut('Your session has ended: sign in again.');
    throw new Error('not signed in');
  }
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${token}` },
  });
  if (response.status === 401) {
    forgetSession();
    showSignedOut('The order service no longer accepts your session: sign in again.');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status alone says what happened
  }
  if (!response.ok) {
    const message = body?.message ?? response.statusText;
    throw new Error(`${response.status}: ${Array.isArray(message) ? message.join(', ') : message}`);
  }
  return body;
}

// ---- recent orders ----

let recentRequests = 0;

async function refreshRecent() {
  // The filter may change while a request is out: only the latest request draws the list.
  const request = ++recentRequests;
  const tbody = $('#recent-orders tbody');
  const customer = new URLSearchParams(location.search).get('customer');
  // One customer's orders come from the public API; everyone's from the operator's endpoint.
  const path = customer
    ? `/orders?customerId=${encodeURIComponent(customer)}&limit=${RECENT_LIMIT}`
    : `/admin/orders?limit=${RECENT_LIMIT}`;
  let orders;
  try {
    ({ items: orders } = await api('GET', path));
  } catch (error) {
    if (request !== recentRequests) return;
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'error' }, error.message)));
    return;
  }
  if (request !== recentRequests) return;
  tbody.replaceChildren(
    ...orders.map((order) =>
      el(
        'tr',
        { 'data-order-id': order.id },
        el('td', {}, orderLink(order.id)),
        el('td', {}, order.customerId),
        el('td', {}, order.strategy),
        el('td', {}, statusBadge(order.status)),
        el('td', {}, order.reason ?? ''),
        el('td', { class: 'number' }, money(order.totalCents)),
        el('td', {}, order.createdAt.replace('T', ' ').slice(0, 19)),
      ),
    ),
  );
  $('#recent-empty').hidden = orders.length > 0;
}

// ---- parked sagas ----

async function refreshParked() {
  const tbody = $('#parked-sagas tbody');
  let sagas;
  try {
    ({ items: sagas } = await api('GET', '/admin/sagas/parked'));
  } catch (error) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'error' }, error.message)));
    return;
  }
  tbody.replaceChildren(
    ...sagas.map((saga) =>
      el(
        'tr',
        { 'data-saga-id': saga.id },
        el('td', {}, orderLink(saga.id)),
        el('td', {}, saga.status),
        el('td', {}, saga.currentStep),
        el('td', {}, saga.parkedReason ?? ''),
        el('td', {}, saga.updatedAt.replace('T', ' ').slice(0, 19)),
        el('td', {}, el('button', { class: 'retry', onclick: () => retry(saga.id) }, 'Retry')),
      ),
    ),
  );
  $('#parked-sagas').hidden = sagas.length === 0;
  $('#parked-empty').hidden = sagas.length > 0;
}

async function retry(id) {
  const message = $('#parked-message');
  message.hidden = false;
  try {
    const saga = await api('POST', `/admin/sagas/${encodeURIComponent(id)}/retry`);
    message.className = 'notice';
    message.textContent = `Saga ${saga.id} resumed: now ${saga.status} at ${saga.currentStep}.`;
  } catch (error) {
    message.className = 'notice error';
    message.textContent = `Retry of ${id} failed: ${error.message}`;
  }
  await Promise.all([refreshParked(), refreshRecent()]);
}

// ---- one order's timeline ----

let timelineTimer = null;
let shownOrderId = null;

function stepRow(order, entry) {
  const step = describeStep(order.strategy, entry.step);
  return el(
    'tr',
    { class: 'step', 'data-step': entry.step, 'data-outcome': entry.outcome },
    el('td', {}, clock(entry.at)),
    el('td', { class: 'number' }, `+${sinceMs(entry.at, order.createdAt)}`),
    el('td', {}, el('span', { class: `service service-${step.service}` }, step.service)),
    el('td', {}, el('code', {}, step.name), el('small', {}, step.does)),
    el('td', {}, outcomeBadge(entry.outcome)),
    el('td', {}, entry.reason ?? ''),
  );
}

function renderOrder(order) {
  $('#order-id').textContent = order.id;
  const items = order.items.map(
    (line) =>
      `${line.sku} × ${line.quantity}` +
      (line.unitPriceCents === null ? '' : ` @ ${money(line.unitPriceCents)}`),
  );
  const summary = [
    ['status', statusBadge(order.status)],
    ['reason', order.reason ?? '—'],
    ['strategy', order.strategy],
    ['customer', order.customerId],
    ['items', items.join(', ')],
    ['total', money(order.totalCents)],
    ['placed', order.createdAt],
    [
      order.status === 'PENDING' ? 'last change' : 'settled',
      `${order.updatedAt} (+${sinceMs(order.updatedAt, order.createdAt)} ms)`,
    ],
  ];
  $('#order-summary').replaceChildren(
    ...summary.flatMap(([term, value]) => [
      el('dt', {}, term),
      el('dd', { id: `order-${term.replace(' ', '-')}` }, value),
    ]),
  );

  const forward = [];
  const undo = [];
  for (const entry of order.history) {
    (describeStep(order.strategy, entry.step).compensation ? undo : forward).push(entry);
  }
  const steps = $('#steps tbody');
  steps.replaceChildren(...forward.map((entry) => stepRow(order, entry)));
  if (forward.length === 0) {
    steps.append(
      el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No step has answered yet.')),
    );
  }
  $('#compensations').hidden = undo.length === 0;
  $('#compensations tbody').replaceChildren(...undo.map((entry) => stepRow(order, entry)));
}

async function showOrder(id) {
  clearTimeout(timelineTimer);
  if (shownOrderId !== id) {
    // Another order: nothing of the previous one may stay on screen under the new id.
    shownOrderId = id;
    $('#order-id').textContent = id;
    $('#order-summary').replaceChildren();
    $('#steps tbody').replaceChildren();
    $('#compensations').hidden = true;
  }
  $('#timeline').hidden = false;
  const error = $('#timeline-error');
  try {
    const order = await api('GET', `/orders/${encodeURIComponent(id)}`);
    if (shownOrderId !== id) return; // another order was opened meanwhile
    error.hidden = true;
    renderOrder(order);
    // A PENDING order is still moving: follow it until it settles.
    if (order.status === 'PENDING') {
      timelineTimer = setTimeout(() => showOrder(id), PENDING_REFRESH_MS);
    }
  } catch (failure) {
    if (shownOrderId !== id) return;
    $('#order-id').textContent = id;
    $('#order-summary').replaceChildren();
    $('#steps tbody').replaceChildren();
    $('#compensations').hidden = true;
    error.hidden = false;
    error.textContent = failure.message;
  }
}

function showRoute() {
  const params = new URLSearchParams(location.search);
  const customer = params.get('customer');
  document.forms.customer.elements.customer.value = customer ?? '';
  $('#recent-of').textContent = customer ? ` of ${customer}` : ' of all customers';
  $('#show-all').hidden = !customer;
  refreshRecent();
  const id = params.get('order');
  if (id) {
    document.forms.lookup.elements.id.value = id;
    showOrder(id);
  } else {
    clearTimeout(timelineTimer);
    shownOrderId = null;
    $('#timeline').hidden = true;
  }
}

let refreshTimer = null;

/** Only the sign-in is shown, with why (null: simply not signed in yet). */
function showSignedOut(problem) {
  clearInterval(refreshTimer);
  clearTimeout(timelineTimer);
  $('#console').hidden = true;
  $('#lookup').hidden = true;
  $('#sign-out').hidden = true;
  $('#signed-out').hidden = false;
  $('#sign-in-error').hidden = !problem;
  $('#sign-in-error').textContent = problem ?? '';
}

function reportSignInFailure(error) {
  $('#sign-in-error').hidden = false;
  $('#sign-in-error').textContent = `Sign-in is not possible now: ${error.message}`;
}

async function start() {
  $('#sign-in').addEventListener('click', () => signIn().catch(reportSignInFailure));
  $('#sign-out').addEventListener('click', (event) => {
    event.preventDefault();
    signOut().catch(reportSignInFailure);
  });
  const problem = await completeSignIn().catch((error) => `Sign-in failed: ${error.message}`);
  if (problem || !accessToken()) {
    showSignedOut(problem);
    return;
  }
  $('#signed-out').hidden = true;
  $('#console').hidden = false;
  $('#lookup').hidden = false;
  $('#sign-out').hidden = false;

  document.forms.lookup.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = document.forms.lookup.elements.id.value.trim();
    if (id) navigate({ order: id });
  });
  document.forms.customer.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate({ customer: document.forms.customer.elements.customer.value.trim() });
  });
  $('#show-all').addEventListener('click', (event) => {
    event.preventDefault();
    navigate({ customer: null });
  });
  window.addEventListener('popstate', showRoute);
  showRoute();
  refreshParked();
  refreshTimer = setInterval(
    () => Promise.all([refreshRecent(), refreshParked()]),
    LIST_REFRESH_MS,
  );
}

start();
