/**
 * The dashboard's script and styles, served from the admin listener itself (the CSP
 * allows nothing else). They live here as strings because tsc copies no .js or .css
 * from src/ into dist/, and the package ships dist/src only.
 *
 * The script polls the JSON API every second and refills the tables from the page's
 * row <template>s (a field the template has no cell for, such as the worker with one
 * process, is left out), putting every value in with textContent: what clients named (files,
 * users) is shown as text, never parsed as HTML.
 */
export const ADMIN_SCRIPT = `'use strict';
(() => {
  const POLL_MS = 1000;
  const byId = (id) => document.getElementById(id);

  function fill(template, fields, action) {
    const row = template.content.firstElementChild.cloneNode(true);
    for (const cell of row.querySelectorAll('[data-field]')) cell.textContent = fields[cell.dataset.field] ?? '';
    row.querySelector('form').action = action;
    return row;
  }

  function sessionRow(session) {
    const transfer = session.transfer;
    const row = fill(byId('session-row'), {
      id: session.id,
      worker: session.worker ? session.worker.index + ' (pid ' + session.worker.pid + ')' : '',
      user: session.user ?? '',
      remoteAddress: session.remoteAddress,
      tls: session.tls ? 'yes' : 'no',
      command: session.command ?? '',
      path: transfer ? transfer.path : '',
      bytes: transfer ? String(transfer.bytes) : '',
      speed: transfer ? String(transfer.speed) : '',
    }, '/sessions/' + encodeURIComponent(session.id) + '/kick');
    row.dataset.session = session.id;
    return row;
  }

  function banRow(ban) {
    const row = fill(byId('ban-row'), ban, '/bans/' + encodeURIComponent(ban.address) + '/unban');
    row.dataset.ban = ban.address;
    return row;
  }

  async function get(name) {
    const response = await fetch('/api/' + name, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (response.status === 401) {
      location.assign('/login');
      throw new Error('logged out');
    }
    if (!response.ok) throw new Error(name + ': HTTP ' + response.status);
    return response.json();
  }

  async function refresh() {
    try {
      const [sessions, bans, stats] = await Promise.all([get('sessions'), get('bans'), get('stats')]);
      byId('sessions').replaceChildren(...sessions.sessions.map(sessionRow));
      byId('bans').replaceChildren(...bans.bans.map(banRow));
      for (const cell of document.querySelectorAll('[data-stat]')) cell.textContent = String(stats[cell.dataset.stat]);
      document.body.dataset.updated = new Date().toISOString();
    } catch (error) {
      console.warn('ferry admin:', error.message);
    } finally {
      setTimeout(refresh, POLL_MS);
    }
  }

  setTimeout(refresh, POLL_MS);
})();
`;

export const ADMIN_STYLES = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
header { display: flex; justify-content: space-between; align-items: center; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; }
td[data-field="bytes"], td[data-field="speed"] { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: flex; flex-wrap: wrap; gap: 1.5em; } dt { color: #666; } dd { margin: 0; font-size: 1.3em; }
.login { max-width: 22em; margin: 4em auto; } .login label { display: block; margin: 0.8em 0; } .login input { width: 100%; }
.error { color: #a00; }
`;
