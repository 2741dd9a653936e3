/**
 * Real-browser journeys through the example app: Debian's Chromium driven by
 * playwright-core. One browser per mocha process (`acquireBrowser`), a new
 * context (cookies, storage) per journey, at a desktop or a phone viewport. Every journey records the
 * requests the page makes and the document answers it gets, so tests can
 * check that nothing leaves the app's host and every page carries the right
 * headers; `shot` saves a full-page screenshot and checks the page as a person
 * would meet it (code fields, horizontal scrolling on a phone).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import * as jsqrModule from 'jsqr';
import { generateCode } from '../../src/core/totp.ts';
import { codeWithTimeLeft, realNow } from './clock.ts';

export type Viewport = 'phone' | 'desktop';

export const VIEWPORTS: Record<Viewport, BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

export const BOTH_VIEWPORTS: Viewport[] = ['desktop', 'phone'];

/**
 * The widths a journey runs at on one example app: both on Koa, the desktop
 * on Express. The pages are the same HTML from the same views on both; what
 * the Express run proves is the adapter (forms, redirects, cookies,
 * sessions), which one width shows. Halves the suite's browser time.
 */
export function viewportsFor(kind: 'koa' | 'express'): Viewport[] {
  return kind === 'koa' ? BOTH_VIEWPORTS : ['desktop'];
}

/**
 * `it` for a journey about the pages themselves (messages, focus, layout,
 * the admin page, lockout texts): declared on Koa only. The Express app
 * serves the same HTML from the same views, so its run keeps the journeys
 * that go through what the adapter does (sign-in, form posts, redirects,
 * cookies, session rotation, step-up middleware, the passkey script's JSON),
 * declared with plain `it`. The HTTP contract tests cover both apps in full.
 */
export function pageJourney(kind: 'koa' | 'express'): (title: string, fn: (this: Mocha.Context) => Promise<void>) => void {
  return kind === 'koa' ? (title, fn) => { it(title, fn); } : () => {};
}

export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-output', 'screenshots');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
];

function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/**
 * How long the shared Chromium outlives its last holder. A mocha worker runs
 * test files one after another in one process: the next browser file takes
 * the same Chromium over instead of starting its own (about 0.7 s of CPU
 * each, twice per file); a run that has none left closes it.
 */
const SHARED_BROWSER_IDLE_MS = 1_000;

let sharedBrowser: Promise<Browser> | undefined;
let holders = 0;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The Chromium of this process, shared by the test files it runs; each
 * journey still gets a context of its own (cookies, storage, permissions).
 * Pair every call with `releaseBrowser()` (in `after`); never `close()` it.
 */
export async function acquireBrowser(): Promise<Browser> {
  holders += 1;
  clearTimeout(idleTimer);
  const current = sharedBrowser ?? launchBrowser();
  sharedBrowser = current;
  try {
    const browser = await current;
    if (browser.isConnected()) return browser;
    // It crashed or was closed: a new one for this holder and the next.
    if (sharedBrowser === current) sharedBrowser = launchBrowser();
    return await sharedBrowser;
  } catch (err) {
    holders -= 1;
    if (sharedBrowser === current) sharedBrowser = undefined;
    throw err;
  }
}

/** Gives the shared Chromium back; it closes when nobody takes it within `SHARED_BROWSER_IDLE_MS`. */
export async function releaseBrowser(): Promise<void> {
  holders = Math.max(0, holders - 1);
  if (holders > 0) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    const closing = sharedBrowser;
    sharedBrowser = undefined;
    void closing?.then((b) => b.close()).catch(() => {});
  }, SHARED_BROWSER_IDLE_MS);
}

/** A main-frame document answer (the page a person sees after a navigation). */
export interface DocumentAnswer {
  url: string;
  status: number;
  headers: Record<string, string>;
}

/** One code field as the person (and their password manager / keyboard) meets it. */
export interface CodeField {
  id: string;
  label: string;
  autocomplete: string | null;
  inputmode: string | null;
}

/** What `shot` measured on a page. */
export interface PageFacts {
  name: string;
  url: string;
  heading: string;
  codeFields: CodeField[];
  scrollWidth: number;
  viewportWidth: number;
  document: DocumentAnswer | undefined;
}

export interface Journey {
  name: string;
  viewport: Viewport;
  baseUrl: string;
  /** The example app under test (`koa`, `express`): its screenshots go to a folder of its own. */
  app: string | undefined;
  context: BrowserContext;
  page: Page;
  /** Every URL any page of this journey requested, in order. */
  requests: string[];
  /** Every main-frame document answer, in order (redirects included). */
  documents: DocumentAnswer[];
  /** One entry per `shot`. */
  pages: PageFacts[];
  /** Console errors and page errors (a CSP violation shows up here). */
  errors: string[];
  /** Screenshot the page, check it, and return what was measured. */
  shot(name: string): Promise<PageFacts>;
  close(): Promise<void>;
}

const journeyOf = new WeakMap<Page, Journey>();

/** A fresh context and page for one journey at one viewport. */
/** `target`: the running example app (or a bare base URL); `extra`: more context options (`javaScriptEnabled: false`…). */
export async function startJourney(browser: Browser, name: string, viewport: Viewport, target: string | { url: string; kind: string }, extra: BrowserContextOptions = {}): Promise<Journey> {
  const [baseUrl, app] = typeof target === 'string' ? [target, undefined] : [target.url, target.kind];
  const context = await browser.newContext({ ...VIEWPORTS[viewport], ...extra, baseURL: baseUrl, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const requests: string[] = [];
  const documents: DocumentAnswer[] = [];
  const errors: string[] = [];
  context.on('request', (req) => { requests.push(req.url()); });
  context.on('console', (msg) => {
    // A 401/403/429 page is an answer the journey expects; anything else (a CSP violation…) is not.
    if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) {
      errors.push(`${msg.location().url}: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => { errors.push(String(err)); });
  context.on('response', (res) => {
    const req = res.request();
    if (req.resourceType() === 'document' && req.frame().parentFrame() === null) {
      documents.push({ url: res.url(), status: res.status(), headers: res.headers() });
    }
  });
  const j: Journey = {
    name, viewport, baseUrl, app, context, page, requests, documents, errors, pages: [],
    async shot(shotName) {
      await screenshot(page, shotName);
      const facts = await pageFacts(page, shotName, documents);
      j.pages.push(facts);
      checkFacts(j, facts);
      return facts;
    },
    close: () => context.close(),
  };
  journeyOf.set(page, j);
  return j;
}

/** Saves `test-output/screenshots/[<app>/]<journey>-<name>-<phone|desktop>.png` (full page). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const j = journeyOf.get(page);
  const dir = j?.app ? join(SCREENSHOT_DIR, slug(j.app)) : SCREENSHOT_DIR;
  const file = join(dir, `${slug(j?.name ?? 'page')}-${slug(name)}-${j?.viewport ?? 'desktop'}.png`);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'initial' });
  return file;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function pageFacts(page: Page, name: string, documents: DocumentAnswer[]): Promise<PageFacts> {
  const measured = await page.evaluate(() => {
    const fields = [...document.querySelectorAll<HTMLInputElement>('input[name="code"]')].map((input) => ({
      id: input.id,
      label: [...(input.labels ?? [])].map((l) => (l.textContent ?? '').trim()).join(' '),
      autocomplete: input.getAttribute('autocomplete'),
      inputmode: input.getAttribute('inputmode'),
    }));
    return {
      heading: (document.querySelector('h1')?.textContent ?? '').trim(),
      codeFields: fields,
      scrollWidth: document.documentElement.scrollWidth,
      viewportWidth: window.innerWidth,
    };
  });
  const url = page.url();
  const answer = [...documents].reverse().find((d) => d.url === url);
  return { name, url, ...measured, document: answer };
}

/** The checks every page of every journey must pass; throws with the page named. */
function checkFacts(j: Journey, f: PageFacts): void {
  const where = `${j.name}/${f.name} (${j.viewport}, ${f.url})`;
  for (const c of f.codeFields) {
    if (!c.label) throw new Error(`${where}: code field #${c.id} has no label`);
    if (c.autocomplete !== 'one-time-code') throw new Error(`${where}: code field #${c.id} has autocomplete=${c.autocomplete}`);
    if (c.inputmode !== 'numeric') throw new Error(`${where}: code field #${c.id} has inputmode=${c.inputmode}`);
  }
  if (j.viewport === 'phone' && f.scrollWidth > f.viewportWidth) {
    throw new Error(`${where}: scrolls sideways (scrollWidth ${f.scrollWidth} > ${f.viewportWidth})`);
  }
  if (j.errors.length > 0) throw new Error(`${where}: console errors: ${j.errors.join(' | ')}`);
  const foreign = foreignRequests(j);
  if (foreign.length > 0) throw new Error(`${where}: requests to other hosts: ${foreign.join(', ')}`);
}

/** Requests over the network to any host but the app's (data:/blob:/about: stay in the page). */
export function foreignRequests(j: Pick<Journey, 'requests' | 'baseUrl'>): string[] {
  const appHost = new URL(j.baseUrl).host;
  return j.requests.filter((u) => {
    const url = new URL(u);
    if (['data:', 'blob:', 'about:'].includes(url.protocol)) return false;
    return url.host !== appHost;
  });
}

type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

/** jsqr is a CommonJS bundle: its function is the default export, sometimes once more nested. */
function jsQR(): JsQr {
  const m = jsqrModule as unknown as { default: JsQr | { default: JsQr } };
  return typeof m.default === 'function' ? m.default : m.default.default;
}

/**
 * Reads the QR code the way a phone camera would: screenshots the inline SVG
 * inside the QR figure, decodes the pixels and returns the otpauth URI's secret.
 */
export async function readQrSecret(page: Page): Promise<string> {
  return new URL(await readQrUri(page)).searchParams.get('secret') ?? fail('the QR code has no secret');
}

export async function readQrUri(page: Page): Promise<string> {
  const svg = page.getByRole('img', { name: /QR code/i }).locator('svg');
  const png = PNG.sync.read(await svg.screenshot({ animations: 'disabled' }));
  const decoded = jsQR()(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!decoded) throw new Error(`no QR code could be decoded from the ${png.width}×${png.height} screenshot`);
  if (!decoded.data.startsWith('otpauth://totp/')) throw new Error(`the QR code holds ${decoded.data}, not an otpauth URI`);
  return decoded.data;
}

function fail(message: string): never {
  throw new Error(message);
}

/** The TOTP code of `secret` `offsetSteps` steps (30 s) from now, without waiting: for codes to avoid. */
export function totp(secret: string, offsetSteps = 0): string {
  return generateCode(secret, realNow() + offsetSteps * 30_000);
}

/**
 * Time a browser step may take between reading a code and the server
 * checking it (typing, clicking, a page load), on a loaded machine too.
 */
export const BROWSER_CODE_TIME_LEFT_MS = 6_000;

/**
 * Mocha timeout of a browser test or hook: a journey may wait once for a
 * fresh TOTP step (`typedCode`) and runs on loaded CI machines.
 */
export const BROWSER_TEST_TIMEOUT_MS = 60_000;

/**
 * The code a person types into a page now. A code of the current or the
 * next step stays inside the example apps' window (±1 step) for at least a
 * whole step after it is computed, so it is returned at once; a code of the
 * previous step leaves the window when the step ends, so it comes from
 * `codeWithTimeLeft` with the margin a browser step needs (waiting into the
 * next step when less is left).
 */
export function typedCode(secret: string, offsetSteps = 0): Promise<string> {
  if (offsetSteps >= 0) return Promise.resolve(totp(secret, offsetSteps));
  return codeWithTimeLeft(secret, offsetSteps, BROWSER_CODE_TIME_LEFT_MS);
}

/** A 6-digit code that is none of the codes accepted around now (±2 steps). */
export function wrongCode(secret: string, seed = 0): string {
  const near = new Set([-2, -1, 0, 1, 2].map((s) => totp(secret, s)));
  for (let n = 123_456 + seed * 7919; ; n = (n + 104_729) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/**
 * Waits until the element with `id` has the focus. `autofocus` is applied at
 * the page's next rendering opportunity, which a loaded machine may delay
 * past the moment the heading is visible.
 */
export async function expectFocusOn(page: Page, id: string, timeoutMs = 5_000): Promise<void> {
  try {
    await page.waitForFunction((want) => document.activeElement?.id === want, id, { timeout: timeoutMs });
  } catch {
    throw new Error(`expected the focus on #${id}, found it on ${await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName)}`);
  }
}
