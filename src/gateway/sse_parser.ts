/**
 * Server-sent events (the `text/event-stream` format, WHATWG HTML §9.2) as the MCP client side
 * reads them: {@link SseParser} cuts decoded text into events, whatever the chunk boundaries.
 */

/** The fields of one event that MCP uses; a field the event did not carry is undefined. */
export interface SseEvent {
  /** The `data` lines joined with LF. */
  data?: string;
  /** The last `id` field: the stream's Last-Event-ID from this event on. */
  id?: string;
  /** The `event` field (the type; none means `message`). */
  event?: string;
  /** The `retry` field, when it is all digits: the reconnection time, ms. */
  retry?: number;
}

/**
 * Cuts a stream of text into events. Lines end with CRLF, LF or CR (a CR at the end of one chunk
 * waits for the next, which may start with its LF); an event ends with a blank line; comment
 * lines (`:` first) are skipped.
 */
export class SseParser {
  /** Text of the unfinished event, its line ends already LF. */
  #buffer = "";
  /** The last text ended with a CR: an LF first in the next one belongs to it. */
  #afterCR = false;

  /** The events that `text` completes, in order; an unfinished one waits for more text. */
  push(text: string): SseEvent[] {
    if (text === "") return [];
    if (this.#afterCR && text.startsWith("\n")) text = text.slice(1);
    this.#afterCR = text.endsWith("\r");
    let buffer = this.#buffer + (text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text);
    const events: SseEvent[] = [];
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      events.push(parseSseEvent(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
    this.#buffer = buffer;
    return events;
  }
}

/** The fields of one event's lines (LF-separated, without the blank line that ends it). */
export function parseSseEvent(block: string): SseEvent {
  const event: SseEvent = {};
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === 0) continue; // a comment (keep-alive)
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") event.data = event.data === undefined ? value : `${event.data}\n${value}`;
    else if (field === "id") event.id = value;
    else if (field === "event") event.event = value;
    else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
  }
  return event;
}
