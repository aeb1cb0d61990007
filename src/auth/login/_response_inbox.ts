/**
 * Private to src/auth: authorization responses on their way to the login flow. The loopback
 * callback and the paste reader only queue them; the flow takes them one at a time, screens
 * each and answers it (the browser page, or the paste loop) with the outcome.
 */
import type { Logger } from "../../log.ts";
import { displayUrl } from "../../config/display_url.ts";
import { raceAbort } from "../../abort.ts";
import type { CallbackOutcome } from "./loopback_callback.ts";
import type { ResponseSource } from "./_authorization_response.ts";

/**
 * Feeds pasted redirect URLs to the inbox until one succeeds or `signal` aborts; one the flow
 * ignores (the flow says why) is followed by the next line.
 */
export async function readPastedUrls(
  readPasted: ((signal: AbortSignal) => AsyncIterable<string>) | undefined,
  inbox: ResponseInbox,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  if (!readPasted) return;
  try {
    for await (const line of readPasted(signal)) {
      const text = line.trim();
      if (!text) continue;
      if (!URL.canParse(text)) {
        logger.warn("Ignoring pasted text: expected the full URL the browser was redirected to");
        continue;
      }
      const url = new URL(text);
      if (!url.searchParams.has("code") && !url.searchParams.has("error")) {
        logger.warn("Ignoring pasted URL: it has no code or error parameter", {
          url: displayUrl(url),
        });
        continue;
      }
      const outcome = await inbox.submit(url, "pasted");
      if (outcome.ok || signal.aborted) return;
    }
  } catch (error) {
    if (!signal.aborted) logger.debug("Stopped reading pasted input", { error: String(error) });
  }
}

interface InboxItem {
  url: URL;
  source: ResponseSource;
  reply: (outcome: CallbackOutcome) => void;
}

/** Authorization responses (callback or pasted) waiting for the flow to handle them. */
export class ResponseInbox {
  #items: InboxItem[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  /** Queues a response; resolves with what to tell the browser (or the paste loop). */
  submit(url: URL, source: ResponseSource): Promise<CallbackOutcome> {
    if (this.#closed) return Promise.resolve(FINISHED);
    return new Promise((reply) => {
      this.#items.push({ url, source, reply });
      this.#wake?.();
    });
  }

  /** The next queued response; rejects with `signal.reason` when it aborts first. */
  async next(signal?: AbortSignal): Promise<InboxItem> {
    while (this.#items.length === 0) {
      const woken = Promise.withResolvers<void>();
      this.#wake = woken.resolve;
      await raceAbort(woken.promise, signal);
    }
    return this.#items.shift()!;
  }

  /** Answers everything still queued, and everything submitted later, with "finished". */
  close(): void {
    this.#closed = true;
    for (const item of this.#items.splice(0)) item.reply(FINISHED);
  }
}

const FINISHED: CallbackOutcome = { ok: false, message: "This login has already finished." };
