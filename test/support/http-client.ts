/**
 * A tiny HTTP client with a cookie jar, for driving the example app like a
 * browser or an API client would. Redirects are not followed, so tests can
 * assert on them.
 */
export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: any;
  text: string;
}

export interface RequestOptions {
  /** JSON body (sets content-type and accept: application/json). */
  json?: unknown;
  /** Urlencoded form body: a record, or a raw string for duplicated fields. */
  form?: Record<string, string> | string;
  headers?: Record<string, string>;
  /** `json` (default when `json` is given) or `html`. */
  accept?: 'json' | 'html';
}

export class HttpClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  /** The value of one cookie, e.g. the session id. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(method: string, path: string, o: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...o.headers };
    const accept = o.accept ?? (o.form !== undefined ? 'html' : 'json');
    headers.accept ??= accept === 'json' ? 'application/json' : 'text/html';
    let body: string | undefined;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = typeof o.form === 'string' ? o.form : new URLSearchParams(o.form).toString();
    }
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body ?? null, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(path: string, o?: RequestOptions) { return this.request('GET', path, o); }
  post(path: string, o?: RequestOptions) { return this.request('POST', path, o); }
  put(path: string, o?: RequestOptions) { return this.request('PUT', path, o); }
  delete(path: string, o?: RequestOptions) { return this.request('DELETE', path, o); }
}
