import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';

/** node:http request headers as Apollo's HeaderMap (repeated headers joined, as HTTP allows). */
export function headerMapOf(headers: IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

/** Writes Apollo's answer (complete or incremental) to a node:http response. */
export async function sendGraphQLResponse(res: ServerResponse, result: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of result.headers) res.setHeader(key, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}
