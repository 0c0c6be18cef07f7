'use strict';
// Celery's `task_routes` for a client: `conf.TASK_ROUTES` maps task names or globs ('tasks.*')
// to where their messages go. As in Celery: a dict, or a list of dicts and functions tried in
// order; exact names before globs; a route is a queue name or `{queue, exchange, routing_key,
// priority}` (camelCase accepted); options given with the call (or as task defaults) win.

const { celeryError } = require('./errors');

const cache = new WeakMap(); // routes object → compiled matchers

function globToRegExp(glob) {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i];
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        const set = glob.slice(i + 1, end);
        source += `[${set.startsWith('!') ? `^${set.slice(1)}` : set}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function compile(routes) {
  const list = Array.isArray(routes) ? routes : [routes];
  return list.map((entry) => {
    if (typeof entry === 'function') return entry;
    if (!entry || typeof entry !== 'object') {
      throw celeryError('ERR_CELERY_INVALID_OPTION', 'TASK_ROUTES entries must be objects or functions', TypeError);
    }
    const exact = new Map();
    const patterns = [];
    for (const [key, route] of Object.entries(entry)) {
      if (/[*?[]/.test(key)) patterns.push([globToRegExp(key), route]);
      else exact.set(key, route);
    }
    return (name) => (exact.has(name) ? exact.get(name) : (patterns.find(([re]) => re.test(name)) || [])[1]);
  });
}

/** The send options a route gives (`queue`, `exchange`, `routingKey`, `priority`), or null. */
function routeOptions(routes, name, args, kwargs) {
  if (!routes) return null;
  if (typeof routes === 'object' && !cache.has(routes)) cache.set(routes, compile(routes));
  const matchers = typeof routes === 'function' ? [routes] : cache.get(routes);
  for (const match of matchers) {
    const route = match(name, args, kwargs);
    if (route == null) continue;
    if (typeof route === 'string') return { queue: route };
    const out = {};
    if (route.queue != null) out.queue = typeof route.queue === 'object' ? route.queue.name : String(route.queue);
    if (route.exchange != null) out.exchange = typeof route.exchange === 'object' ? route.exchange.name : String(route.exchange);
    const routingKey = route.routingKey ?? route.routing_key;
    if (routingKey != null) out.routingKey = String(routingKey);
    if (route.priority != null) out.priority = route.priority;
    return out;
  }
  return null;
}

module.exports = { routeOptions };
