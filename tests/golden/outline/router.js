'use strict';

const { parse } = require('node:url');
import { compile } from './path-to-regexp.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

/**
 * Minimal HTTP router: exact methods, path parameters.
 */
export class Router {
  #routes = [];
  static defaultStatus = 404;

  /** Register a handler for a method and a path pattern. */
  add(method, pattern, handler) {
    if (!METHODS.includes(method)) {
      throw new TypeError(`unsupported method ${method}`);
    }
    const match = compile(pattern);
    this.#routes.push({ method, match, handler });
    return this;
  }

  match(method, url) {
    const { pathname } = parse(url);
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const params = route.match(pathname);
      if (params) return { handler: route.handler, params };
    }
    return null;
  }

  async handle(req, res) {
    const found = this.match(req.method, req.url);
    if (!found) {
      res.statusCode = Router.defaultStatus;
      res.end('not found');
      return;
    }
    await found.handler(req, res, found.params);
  }
}

export const json = (res, status, body) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

function* routesOf(router) {
  yield* router.routes;
}

export default function createRouter() {
  return new Router();
}
